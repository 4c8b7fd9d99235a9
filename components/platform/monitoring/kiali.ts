import { randomBytes } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type SourcesArgs, VERSIONS, sourcesOf } from "../versions.ts";

/** Arguments of {@link Kiali}. */
export interface KialiArgs extends SourcesArgs {
    /** The monitoring namespace. */
    namespace: pulumi.Input<string>;
    /** In-cluster URL of the Prometheus Kiali reads the mesh's traffic from. */
    prometheusUrl: pulumi.Input<string>;
    /** In-cluster URL of Grafana, for Kiali's links to dashboards. */
    grafanaUrl: pulumi.Input<string>;
    /** The URL people open Grafana at, when it is exposed. @default the in-cluster URL */
    grafanaExternalUrl?: pulumi.Input<string>;
}

export const KIALI_SERVICE = { name: "kiali", port: 20001 } as const;

/** The Secret (key `key`) holding the key Kiali signs login tokens with. */
const SIGNING_KEY_SECRET = "kiali-signing-key";

/**
 * Kiali from its upstream chart, wired to the platform's Prometheus, Grafana
 * and Istio, so the service graph (including a canary's traffic split) shows
 * on first open. Login is by Kubernetes token: `kubectl -n monitoring create token kiali`.
 *
 * The chart draws a new random token-signing key at every render (a change at every preview,
 * and every login invalidated at every `up`) unless it is given one: the platform keeps one in a
 * Secret, drawn when the Secret is created and kept after (`ignoreChanges`).
 * @see https://kiali.io/docs/installation/installation-guide/install-with-helm/
 */
export class Kiali extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;
    /** Every object its charts and manifests render, once all of them are registered (the node-pool check waits for it). */
    public readonly rendered: pulumi.Output<unknown[]>;

    constructor(name: string, args: KialiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:monitoring:Kiali", name, {}, opts);
        const signingKey = new k8s.core.v1.Secret(
            `${name}-signing-key`,
            {
                metadata: { name: SIGNING_KEY_SECRET, namespace: args.namespace },
                stringData: { key: pulumi.secret(randomBytes(16).toString("hex")) },
            },
            // The provider turns stringData into data as it checks a Secret: both keep their first value.
            { parent: this, ignoreChanges: ["stringData", "data"] },
        );
        const chart = new k8s.helm.v4.Chart(
            name,
            {
                chart: "kiali-server",
                name: "kiali",
                version: VERSIONS.kiali,
                namespace: args.namespace,
                repositoryOpts: { repo: sourcesOf(args).kialiChartRepository },
                values: pulumi
                    .all([args.prometheusUrl, args.grafanaUrl, args.grafanaExternalUrl ?? args.grafanaUrl])
                    .apply(([prometheus, grafana, grafanaExternal]) =>
                        kialiValues(prometheus, grafana, grafanaExternal),
                    ),
            },
            { parent: this, dependsOn: [signingKey] },
        );
        this.rendered = chart.resources;
        this.url = pulumi.interpolate`http://${KIALI_SERVICE.name}.${args.namespace}.svc.cluster.local:${KIALI_SERVICE.port}`;
        this.registerOutputs({ url: this.url });
    }
}

/** Kiali's chart values: where Istio, Prometheus and Grafana are. */
export function kialiValues(
    prometheusUrl: string,
    grafanaUrl: string,
    grafanaExternalUrl: string,
): Record<string, unknown> {
    return {
        istio_namespace: "istio-system",
        auth: { strategy: "token" },
        // Kiali reads "secret:<name>:<key>" from its own namespace (32 characters: Kiali takes 16, 24 or 32).
        login_token: { signing_key: `secret:${SIGNING_KEY_SECRET}:key` },
        deployment: { cluster_wide_access: true },
        external_services: {
            istio: { root_namespace: "istio-system" },
            prometheus: { url: prometheusUrl },
            grafana: {
                enabled: true,
                internal_url: grafanaUrl,
                external_url: grafanaExternalUrl,
                // Kiali reads "secret:<name>:<key>" from its own namespace: the Secret Grafana uses.
                auth: { type: "basic", username: "admin", password: "secret:grafana-admin:admin-password" },
                dashboards: [{ name: "Istio mesh" }, { name: "Knative Serving: revisions" }],
            },
            tracing: { enabled: false },
        },
    };
}
