/**
 * The platform's own namespaces, in one table that the cluster code, the platform config and the
 * policy pack all read: which of them call into app namespaces (the NetworkPolicy lets them in),
 * and which run node agents that need host access (exempt from the pod-security policies and from
 * the "restricted" profile).
 */
export interface SystemNamespace {
    name: string;
    /** Its pods connect to app pods: the ingress gateway, Knative's activator and probes, event delivery, scraping. */
    reachesApps: boolean;
    /** Its node agents need host access (Istio's CNI agent, node-exporter, Fluent Bit). */
    hostAccess: boolean;
}

/** Where the platform stack's preview identity lives (preview-identity.ts): no pods, only a ServiceAccount. */
export const PREVIEWS_NAMESPACE = "platform-previews";

export const SYSTEM_NAMESPACES: readonly SystemNamespace[] = [
    { name: "kube-system", reachesApps: false, hostAccess: true },
    { name: "istio-system", reachesApps: true, hostAccess: true },
    { name: "knative-serving", reachesApps: true, hostAccess: false },
    { name: "knative-eventing", reachesApps: true, hostAccess: false },
    // Prometheus scrapes queue-proxy (9091) and Envoy (15090) in app namespaces.
    { name: "monitoring", reachesApps: true, hostAccess: true },
    { name: "elastic-system", reachesApps: false, hostAccess: true },
    { name: PREVIEWS_NAMESPACE, reachesApps: false, hostAccess: false },
];

/** Names of the system namespaces with `property` set. */
export function systemNamespaces(property: "reachesApps" | "hostAccess"): string[] {
    return SYSTEM_NAMESPACES.filter((ns) => ns[property]).map((ns) => ns.name);
}

/** Whether `name` is one of the platform's own namespaces (or a Kubernetes or Knative one). */
export function isSystemNamespace(name: string): boolean {
    return SYSTEM_NAMESPACES.some((ns) => ns.name === name) || /^(kube|knative|istio)-/.test(name);
}
