import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppNamespace, PlatformConfig } from "./config/index.ts";
import { systemNamespaces } from "../shared/system-namespaces.ts";

/**
 * The Kubernetes provider of one environment: a kubeconfig given as a secret,
 * or a context of the ambient kubeconfig. Server-side apply is on, so patches
 * of upstream objects (Knative's ConfigMaps) coexist with the manifests that
 * create them. ConfigMaps are updated in place, not replaced: the platform's
 * own (Grafana dashboards, the warm scheduler's code) have fixed names that
 * readers mount or watch, and a replace would delete them before recreating
 * them, which a preview shows as churn; the scheduler rolls on a code change
 * through a hash of the code on its pod template.
 */
export function clusterProvider(name: string, kubernetes: PlatformConfig["kubernetes"]): k8s.Provider {
    return new k8s.Provider(name, {
        enableServerSideApply: true,
        enableConfigMapMutable: true,
        ...(kubernetes.kubeconfig !== undefined ? { kubeconfig: kubernetes.kubeconfig } : {}),
        ...(kubernetes.context !== undefined ? { context: kubernetes.context } : {}),
    });
}

/**
 * The host of the platform's dynamic resources (each chart's CrdSet, `crds.ts`), reaching the cluster the
 * Kubernetes provider reaches and given nothing else: the default host is given the stack's whole config, so
 * every config change would preview as an update of it.
 */
export class DynamicResourceHost extends pulumi.ProviderResource {
    constructor(name: string, kubernetes: PlatformConfig["kubernetes"]) {
        // Named as the stack's config names them, which is how the provider's `configure` reads them.
        super("pulumi-nodejs", name, {
            ...(kubernetes.kubeconfig !== undefined ? { "kubernetes:kubeconfig": kubernetes.kubeconfig } : {}),
            ...(kubernetes.context !== undefined ? { "kubernetes:context": kubernetes.context } : {}),
        });
    }
}

/** The Role, in each app namespace, of what its app team may do there (its stacks' preview identity has it too). */
export const APP_TEAM_ROLE = "app-team";

/** What an app team may do in its own namespace, and nothing cluster-wide. */
const APP_TEAM_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    {
        apiGroups: ["serving.knative.dev"],
        resources: ["services"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    { apiGroups: ["serving.knative.dev"], resources: ["revisions"], verbs: ["get", "list", "watch", "delete"] },
    { apiGroups: ["serving.knative.dev"], resources: ["configurations", "routes"], verbs: ["get", "list", "watch"] },
    {
        apiGroups: ["sources.knative.dev"],
        resources: ["pingsources", "kafkasources"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        apiGroups: ["eventing.knative.dev"],
        resources: ["triggers"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    { apiGroups: ["eventing.knative.dev"], resources: ["brokers"], verbs: ["get", "list", "watch"] },
    {
        apiGroups: [""],
        resources: ["secrets", "configmaps"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    { apiGroups: [""], resources: ["pods", "pods/log", "events", "services"], verbs: ["get", "list", "watch"] },
];

/** Arguments of {@link AppNamespaces}. */
export interface AppNamespacesArgs {
    /** The app teams' namespaces, from the stack's `namespaces`. */
    namespaces: AppNamespace[];
    /** Label namespaces for Istio sidecar injection. @default true */
    meshInjection?: boolean;
    /**
     * What must be up before the namespaces exist: the mesh's injection webhook and CNI agent,
     * so that the first pods (the warm scheduler's) get their sidecars. @default nothing
     */
    mesh?: pulumi.Resource[];
}

/**
 * The instance metadata endpoint of AWS, GCP and Azure (the same link-local address; AWS's IPv6 one too), which hands
 * a caller the node's cloud credentials. @see https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html
 */
export const CLOUD_METADATA = { ipv4: "169.254.169.254/32", ipv6: "fd00:ec2::254/128" } as const;

/**
 * The app teams' namespaces, each locked down the same way: Pod Security
 * `restricted` enforced, mesh sidecar injection, a ResourceQuota and
 * LimitRange, ingress denied except from the namespace itself and the
 * platform's own (ingress gateway, Knative activator, event delivery), and a
 * Role that lets the team's group manage Knative Services, sources and
 * triggers there.
 *
 * ```ts
 * const apps = new AppNamespaces("apps", { namespaces: [{ name: "games-web", group: "games-web-devs", broker: true, quota }] });
 * ```
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
export class AppNamespaces extends pulumi.ComponentResource {
    /** The Namespace resources by name: what the warm schedulers and brokers wait for. */
    public readonly namespaces: ReadonlyMap<string, k8s.core.v1.Namespace>;

    constructor(name: string, args: AppNamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:cluster:AppNamespaces", name, {}, opts);
        const meshInjection = args.meshInjection ?? true;
        this.namespaces = new Map(
            args.namespaces.map((ns) => [ns.name, lockedDownNamespace(this, ns, meshInjection, args.mesh ?? [])]),
        );
        this.registerOutputs({});
    }
}

function lockedDownNamespace(
    parent: AppNamespaces,
    ns: AppNamespace,
    meshInjection: boolean,
    mesh: pulumi.Resource[],
): k8s.core.v1.Namespace {
    const labels = { "app.kubernetes.io/managed-by": "pulumi" };
    const namespace = new k8s.core.v1.Namespace(
        ns.name,
        {
            metadata: {
                name: ns.name,
                labels: {
                    ...labels,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/warn": "restricted",
                    ...(meshInjection ? { "istio-injection": "enabled" } : {}),
                },
            },
        },
        // Every app team's services live here: removing or renaming the key in a stack file (or a destroy)
        // lets go of the namespace instead of deleting it with everything in it.
        { parent, retainOnDelete: true, dependsOn: mesh },
    );
    const child = { parent, dependsOn: [namespace] };
    const metadata = (suffix: string) => ({ name: suffix, namespace: ns.name, labels });

    new k8s.core.v1.ResourceQuota(
        `${ns.name}-quota`,
        {
            metadata: metadata("app-quota"),
            spec: {
                hard: {
                    "requests.cpu": ns.quota.cpu,
                    "requests.memory": ns.quota.memory,
                    "limits.memory": ns.quota.memory,
                    pods: String(ns.quota.pods),
                },
            },
        },
        child,
    );
    // Knative's queue-proxy and Istio's sidecar set their own; this covers anything else started here.
    new k8s.core.v1.LimitRange(
        `${ns.name}-limits`,
        {
            metadata: metadata("app-limits"),
            spec: {
                limits: [
                    {
                        type: "Container",
                        defaultRequest: { cpu: "100m", memory: "128Mi" },
                        default: { cpu: "1", memory: "512Mi" },
                    },
                ],
            },
        },
        child,
    );
    new k8s.networking.v1.NetworkPolicy(
        `${ns.name}-default-deny`,
        { metadata: metadata("default-deny-ingress"), spec: { podSelector: {}, policyTypes: ["Ingress"] } },
        child,
    );
    new k8s.networking.v1.NetworkPolicy(
        `${ns.name}-allow-platform`,
        {
            metadata: metadata("allow-same-namespace-and-platform"),
            spec: {
                podSelector: {},
                policyTypes: ["Ingress"],
                ingress: [
                    {
                        from: [
                            { podSelector: {} },
                            {
                                namespaceSelector: {
                                    matchExpressions: [
                                        {
                                            key: "kubernetes.io/metadata.name",
                                            operator: "In",
                                            values: systemNamespaces("reachesApps"),
                                        },
                                    ],
                                },
                            },
                        ],
                    },
                ],
            },
        },
        child,
    );
    // Egress anywhere but the cloud's instance metadata endpoint, whose node credentials a compromised app would
    // take, unless the namespace opens it. Pods are peers of their own too: a network plugin may not match pod
    // addresses by IP block.
    if (!ns.cloudMetadata)
        new k8s.networking.v1.NetworkPolicy(
            `${ns.name}-deny-cloud-metadata`,
            {
                metadata: metadata("deny-cloud-metadata"),
                spec: {
                    podSelector: {},
                    policyTypes: ["Egress"],
                    egress: [
                        {
                            to: [
                                { ipBlock: { cidr: "0.0.0.0/0", except: [CLOUD_METADATA.ipv4] } },
                                { ipBlock: { cidr: "::/0", except: [CLOUD_METADATA.ipv6] } },
                                { namespaceSelector: {} },
                            ],
                        },
                    ],
                },
            },
            child,
        );
    const role = new k8s.rbac.v1.Role(
        `${ns.name}-app-team`,
        { metadata: metadata(APP_TEAM_ROLE), rules: APP_TEAM_RULES },
        child,
    );
    new k8s.rbac.v1.RoleBinding(
        `${ns.name}-app-team`,
        {
            metadata: metadata(APP_TEAM_ROLE),
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: APP_TEAM_ROLE },
            subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: ns.group }],
        },
        { parent, dependsOn: [role] },
    );
    return namespace;
}
