/**
 * The policy pack's only exceptions: upstream workloads that break a policy as their project ships them,
 * each named exactly.
 */
import { type Props, at } from "./props.ts";

/** An upstream workload that breaks policies as its project ships it, where no chart value can change that. */
interface UpstreamException {
    policies: readonly string[];
    kind: string;
    namespace: string;
    name: string;
    /** Why it is accepted, ending with where the fact comes from, in parentheses. */
    reason: string;
}

/**
 * Upstream workloads that break a policy as their project ships them, each named exactly (policy,
 * kind, namespace, name), with the reason it is accepted and where the fact comes from. Read from
 * the real release manifests and charts; what a chart can configure is configured instead. Nothing
 * else is excepted; the platform's preview passes the pack in every environment with these alone
 * (e2e/platform.ts, in every environment's platform file).
 */
export const UPSTREAM_EXCEPTIONS: readonly UpstreamException[] = [
    {
        policies: [
            "run-as-non-root",
            "no-privilege-escalation",
            "drop-all-capabilities",
            "seccomp-runtime-default",
            "read-only-root-filesystem",
            "resource-requests-and-limits",
        ],
        kind: "StatefulSet",
        namespace: "knative-eventing",
        name: "request-reply",
        reason: "Knative Eventing 1.23 ships its request-reply StatefulSet with no security context and no resources, unlike its other workloads (knative/eventing config/, released as eventing-core.yaml)",
    },
    // Knative Eventing's controllers and brokers, as their release manifests ship them: a memory limit of ours
    // would be a guess at upstream's memory profile.
    ...["eventing-controller", "mt-broker-controller", "mt-broker-filter", "mt-broker-ingress", "kafka-controller"].map(
        (name) => ({
            policies: ["resource-requests-and-limits"],
            kind: "Deployment",
            namespace: "knative-eventing",
            name,
            reason: "Knative Eventing ships it with requests and no memory limit (knative/eventing config/, eventing-kafka-broker control-plane/config/: eventing-core.yaml, mt-channel-broker.yaml, eventing-kafka-controller.yaml)",
        }),
    ),
    ...["imc-controller", "imc-dispatcher"].map((name) => ({
        policies: ["resource-requests-and-limits"],
        kind: "Deployment",
        namespace: "knative-eventing",
        name,
        reason: "Knative Eventing ships the in-memory channel (dev's broker) with no resources (knative/eventing config/channels/in-memory-channel/, in-memory-channel.yaml)",
    })),
    {
        policies: ["run-as-non-root"],
        kind: "StatefulSet",
        namespace: "knative-eventing",
        name: "kafka-source-dispatcher",
        reason: "eventing-kafka-broker ships it running as user 1001 without stating runAsNonRoot (eventing-kafka-broker data-plane/config/source/, eventing-kafka-source.yaml)",
    },
    {
        policies: ["read-only-root-filesystem"],
        kind: "Deployment",
        namespace: "knative-serving",
        name: "net-istio-webhook",
        reason: "net-istio ships its webhook without readOnlyRootFilesystem, unlike its controller (knative-extensions/net-istio config/, released as net-istio.yaml)",
    },
    {
        policies: ["no-plaintext-secrets-in-env"],
        kind: "StatefulSet",
        namespace: "elastic-system",
        name: "elastic-operator",
        reason: "WEBHOOK_SECRET holds the name of the Secret with the operator's webhook certificate, not a secret (elastic/cloud-on-k8s deploy/eck-operator/templates/statefulset.yaml)",
    },
    // The node agents: exempt by name from the host-access rules their job breaks, never by namespace.
    {
        policies: [
            "no-privileged-containers",
            "no-host-path-volumes",
            "no-privilege-escalation",
            "run-as-non-root",
            "seccomp-runtime-default",
            "read-only-root-filesystem",
        ],
        kind: "DaemonSet",
        namespace: "istio-system",
        name: "istio-cni-node",
        reason: "Istio's CNI agent installs the CNI plugin into each node's /opt/cni/bin and /etc/cni/net.d and enters pods' network namespaces: it runs privileged, as root (istio/istio manifests/charts/istio-cni)",
    },
    {
        policies: [
            "no-host-path-volumes",
            "run-as-non-root",
            "drop-all-capabilities",
            "no-privilege-escalation",
            "seccomp-runtime-default",
            "read-only-root-filesystem",
        ],
        kind: "DaemonSet",
        namespace: "monitoring",
        name: "fluent-bit",
        reason: "Fluent Bit tails every container's log files under the node's /var/log, which only root reads, and keeps its read positions beside them; its chart sets no security context (fluent/helm-charts charts/fluent-bit values.yaml)",
    },
    {
        policies: ["no-host-path-volumes", "no-host-namespaces"],
        kind: "DaemonSet",
        namespace: "monitoring",
        name: "prometheus-stack-prometheus-node-exporter",
        reason: "node-exporter reports the node itself: it reads the host's /proc, /sys and root filesystem in the host's network and PID namespaces (prometheus-community/helm-charts charts/prometheus-node-exporter)",
    },
    {
        policies: ["read-only-root-filesystem"],
        kind: "Deployment",
        namespace: "monitoring",
        name: "grafana",
        reason: "the grafana chart ships Grafana and its sidecars with writable root filesystems, and the simulated cluster runs no Grafana to prove a read-only one (grafana/helm-charts charts/grafana values.yaml, containerSecurityContext)",
    },
    {
        policies: ["image-pinned", "images-from-allowed-registries"],
        kind: "Deployment",
        namespace: "istio-system",
        name: "istio-ingressgateway",
        reason: "Istio's gateway chart ships `image: auto`; istiod's injector replaces it with the pinned proxy image of the installed Istio, from its hub (istio/istio manifests/charts/gateway)",
    },
];

/** Whether `policy` is excepted for this upstream object. */
export function excepted(policy: string, type: string, props: Props): boolean {
    return UPSTREAM_EXCEPTIONS.some(
        (e) =>
            e.policies.includes(policy) &&
            type.endsWith(`:${e.kind}`) &&
            at(props, "metadata", "namespace") === e.namespace &&
            at(props, "metadata", "name") === e.name,
    );
}
