/**
 * The platform's own namespaces, in one table that the cluster code, the platform config and the
 * policy pack all read: no app namespace takes their names, they need not enforce the "restricted"
 * profile, and those that call into app namespaces are let in by the apps' NetworkPolicy. (Their
 * node agents' exemptions from the host-access policies are by workload: policy/upstream-exceptions.ts.)
 */
export interface SystemNamespace {
    name: string;
    /** Its pods connect to app pods: the ingress gateway, Knative's activator and probes, event delivery, scraping. */
    reachesApps: boolean;
}

/** Where the platform stack's preview identity lives (preview-identity.ts): no pods, only a ServiceAccount. */
export const PREVIEWS_NAMESPACE = "platform-previews";

export const SYSTEM_NAMESPACES: readonly SystemNamespace[] = [
    { name: "kube-system", reachesApps: false },
    { name: "istio-system", reachesApps: true },
    { name: "knative-serving", reachesApps: true },
    { name: "knative-eventing", reachesApps: true },
    // Prometheus scrapes queue-proxy (9091) and Envoy (15090) in app namespaces.
    { name: "monitoring", reachesApps: true },
    { name: "elastic-system", reachesApps: false },
    { name: PREVIEWS_NAMESPACE, reachesApps: false },
];

/** Names of the system namespaces with `property` set. */
export function systemNamespaces(property: "reachesApps"): string[] {
    return SYSTEM_NAMESPACES.filter((ns) => ns[property]).map((ns) => ns.name);
}

/** Whether `name` is one of the platform's own namespaces (or a Kubernetes or Knative one). */
export function isSystemNamespace(name: string): boolean {
    return SYSTEM_NAMESPACES.some((ns) => ns.name === name) || /^(kube|knative|istio)-/.test(name);
}
