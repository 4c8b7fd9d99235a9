/** The `istio` config section: Istio's control plane, ingress gateway and mesh-wide mTLS. */
import { type ValueOf, helmValues, oneOf, section, wholeNumber } from "./schema.ts";

export const ISTIO_SCHEMA = section("Istio's control plane, ingress gateway and mesh-wide mTLS", {
    replicas: wholeNumber("istiod replicas; above 1, spread across nodes with a PodDisruptionBudget", 1, 1),
    gatewayReplicas: wholeNumber("ingress gateway replicas, likewise", 1, 1),
    gatewayServiceType: oneOf(
        "the ingress gateway's Service type",
        ["LoadBalancer", "NodePort", "ClusterIP"],
        "LoadBalancer",
    ),
    mtls: oneOf("mesh-wide mTLS mode (prod requires STRICT)", ["STRICT", "PERMISSIVE"], "STRICT"),
    values: section("Helm values merged over the platform's, per chart", {
        base: helmValues("for the base chart"),
        istiod: helmValues("for istiod (e.g. { global: { platform: gke } })"),
        cni: helmValues("for the CNI node agent"),
        gateway: helmValues("for the ingress gateway"),
    }),
});

export type IstioConfig = ValueOf<typeof ISTIO_SCHEMA.fields>;
