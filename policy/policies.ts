/**
 * The platform's guardrails as Pulumi CrossGuard policies. Each says what it
 * checks, why, and where the rule comes from; each is tested with a compliant
 * and a violating resource (test/policy.test.ts). Which ones block a preview
 * (mandatory) and which only warn (advisory) is set per environment in
 * policy/config/<env>.json.
 */
import type {
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";

import { imageFromRegistries, imagePin } from "../components/shared/image.ts";
import { UPSTREAM_IMAGE_REGISTRIES } from "../components/platform/versions.ts";
import { isSystemNamespace } from "../components/shared/system-namespaces.ts";
import { type Props, at, objectAt } from "./props.ts";
import { excepted } from "./upstream-exceptions.ts";

const KSVC = "kubernetes:serving.knative.dev/v1:Service";
const WORKLOADS: Record<string, (props: Props) => Props | undefined> = {
    "kubernetes:core/v1:Pod": (p) => objectAt(p, "spec"),
    "kubernetes:apps/v1:Deployment": (p) => objectAt(p, "spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": (p) => objectAt(p, "spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": (p) => objectAt(p, "spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": (p) => objectAt(p, "spec", "template", "spec"),
    "kubernetes:batch/v1:Job": (p) => objectAt(p, "spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": (p) => objectAt(p, "spec", "jobTemplate", "spec", "template", "spec"),
    [KSVC]: (p) => objectAt(p, "spec", "template", "spec"),
};

/** The pod spec of a workload resource, or undefined for anything else. */
export function podSpecOf(type: string, props: Props): Props | undefined {
    return WORKLOADS[type]?.(props);
}

function containersOf(pod: Props): Props[] {
    return [...((pod.initContainers as Props[] | undefined) ?? []), ...((pod.containers as Props[] | undefined) ?? [])];
}

function namespaceOf(props: Props): string | undefined {
    return at(props, "metadata", "namespace") as string | undefined;
}

/** A policy over each container of each workload (Knative Services included). */
function containerPolicy(
    name: string,
    description: string,
    check: (container: Props, pod: Props, settings?: Props) => string | undefined,
): ResourceValidationPolicy {
    return {
        name,
        description,
        validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
            const pod = podSpecOf(args.type, args.props);
            if (pod === undefined) return;
            if (excepted(name, args.type, args.props)) return;
            const settings = args.getConfig<Props>();
            for (const container of containersOf(pod)) {
                const problem = check(container, pod, settings);
                if (problem !== undefined) {
                    report(`container "${String(container.name)}" ${problem}`);
                }
            }
        },
    };
}

/** A policy over the pod spec of each workload. */
function podPolicy(
    name: string,
    description: string,
    check: (pod: Props) => string | undefined,
): ResourceValidationPolicy {
    return {
        name,
        description,
        validateResource: (args, report) => {
            const pod = podSpecOf(args.type, args.props);
            if (pod === undefined) return;
            if (excepted(name, args.type, args.props)) return;
            const problem = check(pod);
            if (problem !== undefined) report(problem);
        },
    };
}

/** A policy over the Knative Services' revision templates. */
function knativePolicy(
    name: string,
    description: string,
    check: (template: Props, args: ResourceValidationArgs) => string | undefined,
): ResourceValidationPolicy {
    return {
        name,
        description,
        validateResource: (args, report) => {
            if (args.type !== KSVC) return;
            const problem = check((args.props.spec?.template as Props | undefined) ?? {}, args);
            if (problem !== undefined) report(problem);
        },
    };
}

const effective = (container: Props, pod: Props, field: string): unknown =>
    (container.securityContext as Props | undefined)?.[field] ?? (pod.securityContext as Props | undefined)?.[field];

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)$/i;

/** The guardrails, in the order a reader meets them. */
export const POLICIES: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    containerPolicy(
        "no-privileged-containers",
        "Containers must not run privileged: a privileged container owns the node. Source: Pod Security Standards (baseline), kube-linter privileged-container.",
        (c) => ((c.securityContext as Props | undefined)?.privileged === true ? "runs privileged" : undefined),
    ),
    containerPolicy(
        "run-as-non-root",
        "Containers must set runAsNonRoot: true (container or pod). Source: Pod Security Standards (restricted), kube-linter run-as-non-root.",
        (c, pod) => (effective(c, pod, "runAsNonRoot") === true ? undefined : "does not set runAsNonRoot: true"),
    ),
    containerPolicy(
        "no-privilege-escalation",
        "Containers must set allowPrivilegeEscalation: false. Source: Pod Security Standards (restricted), Polaris privilegeEscalationAllowed.",
        (c) =>
            (c.securityContext as Props | undefined)?.allowPrivilegeEscalation === false
                ? undefined
                : "allows privilege escalation",
    ),
    containerPolicy(
        "drop-all-capabilities",
        'Containers must drop ALL capabilities. Source: Pod Security Standards (restricted); Knative warns when "ALL" is misspelt.',
        (c) => {
            const drop = ((c.securityContext as Props | undefined)?.capabilities as Props | undefined)?.drop as
                string[] | undefined;
            return drop?.includes("ALL") ? undefined : "does not drop ALL capabilities";
        },
    ),
    containerPolicy(
        "seccomp-runtime-default",
        "Containers must run under the RuntimeDefault (or Localhost) seccomp profile. Source: Pod Security Standards (restricted).",
        (c, pod) => {
            const type = (effective(c, pod, "seccompProfile") as Props | undefined)?.type;
            return type === "RuntimeDefault" || type === "Localhost"
                ? undefined
                : "has no RuntimeDefault seccomp profile";
        },
    ),
    containerPolicy(
        "resource-requests-and-limits",
        "Containers must request CPU and memory and limit memory, so the scheduler and the autoscaler see their cost. Source: kube-linter unset-cpu-requirements / unset-memory-requirements, Polaris.",
        (c) => {
            const missing = [
                at(c, "resources", "requests", "cpu") === undefined ? "requests.cpu" : "",
                at(c, "resources", "requests", "memory") === undefined ? "requests.memory" : "",
                at(c, "resources", "limits", "memory") === undefined ? "limits.memory" : "",
            ].filter(Boolean);
            return missing.length > 0 ? `does not set ${missing.join(", ")}` : undefined;
        },
    ),
    containerPolicy(
        "image-pinned",
        'Images must be pinned by digest or an explicit tag, never "latest" or untagged: the image must not move under a running revision. Source: kube-linter latest-tag, Polaris tagNotSpecified.',
        (c) => {
            const image = typeof c.image === "string" ? c.image : "";
            const pin = imagePin(image);
            return pin.kind === "refused" ? `uses image "${image}", which ${pin.reason}` : undefined;
        },
    ),
    {
        ...containerPolicy(
            "images-from-allowed-registries",
            "Images must come from the registries the platform's pinned upstream images use or one the environment's policy config adds (registries: the company's own registry and mirrors): an image from anywhere else was never vetted, and a typo in a registry name pulls a stranger's code. Source: CIS Kubernetes Benchmark 5.5.1 (image provenance), NSA/CISA Kubernetes Hardening Guide (trusted registries).",
            (c, _pod, settings) => {
                const image = typeof c.image === "string" ? c.image : "";
                const allowed = [
                    ...UPSTREAM_IMAGE_REGISTRIES,
                    ...((settings?.registries as string[] | undefined) ?? []),
                ];
                return imageFromRegistries(image, allowed)
                    ? undefined
                    : `uses image "${image}", whose registry is neither one of the platform's upstream registries nor in the policy config's registries`;
            },
        ),
        configSchema: { properties: { registries: { type: "array", items: { type: "string" }, default: [] } } },
    },
    containerPolicy(
        "read-only-root-filesystem",
        "Containers should keep a read-only root filesystem (write to a mounted /tmp). Source: kube-linter no-read-only-root-fs, Polaris notReadOnlyRootFilesystem.",
        (c) =>
            (c.securityContext as Props | undefined)?.readOnlyRootFilesystem === true
                ? undefined
                : "has a writable root filesystem",
    ),
    containerPolicy(
        "no-plaintext-secrets-in-env",
        "Env vars named like secrets must come from a Secret (valueFrom.secretKeyRef), never a literal value in the spec. Source: kube-linter env-var-secret.",
        (c) => {
            const leaked = ((c.env as Props[] | undefined) ?? []).filter(
                (e) => SECRET_NAME.test(String(e.name)) && e.value !== undefined && e.value !== "",
            );
            return leaked.length > 0
                ? `sets ${leaked.map((e) => String(e.name)).join(", ")} as plain text; use a Secret`
                : undefined;
        },
    ),
    podPolicy(
        "no-host-namespaces",
        "Pods must not share the node's network, PID or IPC namespaces (the platform's node agents excepted, by name). Source: Pod Security Standards (baseline), kube-linter host-network.",
        (pod) => {
            const shared = ["hostNetwork", "hostPID", "hostIPC"].filter((field) => pod[field] === true);
            return shared.length > 0 ? `shares the node's ${shared.join(", ")}` : undefined;
        },
    ),
    podPolicy(
        "no-host-path-volumes",
        "Pods must not mount a hostPath volume (the platform's node agents excepted, by name): it reads or writes the node's own files. Source: Pod Security Standards (baseline, HostPath Volumes), kube-linter host-mounts.",
        (pod) => {
            const mounted = ((pod.volumes as Props[] | undefined) ?? []).filter((v) => v.hostPath !== undefined);
            return mounted.length > 0
                ? `mounts the node's ${mounted.map((v) => `${String(at(v, "hostPath", "path"))} (volume "${String(v.name)}")`).join(", ")}`
                : undefined;
        },
    ),
    {
        name: "no-node-ports-in-app-namespaces",
        description:
            "Services in app namespaces must not be of type NodePort or LoadBalancer: apps are reached through the platform's ingress gateway, with its TLS and its routes, never on a node's port or a load balancer of their own. Source: kube-linter exposed-services; platform design.",
        validateResource: (args, report) => {
            if (args.type !== "kubernetes:core/v1:Service") return;
            if (isSystemNamespace(namespaceOf(args.props) ?? "")) return;
            const type = at(args.props, "spec", "type");
            if (type === "NodePort" || type === "LoadBalancer") report(`is of type ${type}`);
        },
    },
    {
        name: "no-cluster-admin-bindings",
        description:
            "No RoleBinding or ClusterRoleBinding may grant the cluster-admin ClusterRole: whoever holds it can do anything, Secrets of every namespace included. Source: CIS Kubernetes Benchmark 5.1.1, kube-linter cluster-admin-role-binding.",
        validateResource: (args, report) => {
            const kinds = [
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
            ];
            if (!kinds.includes(args.type)) return;
            if (
                at(args.props, "roleRef", "kind") !== "ClusterRole" ||
                at(args.props, "roleRef", "name") !== "cluster-admin"
            )
                return;
            const subjects = (
                (args.props.subjects as { kind?: string; namespace?: string; name?: string }[] | undefined) ?? []
            ).map((s) => `${s.kind ?? ""} ${s.namespace === undefined ? "" : `${s.namespace}/`}${s.name ?? ""}`);
            report(`grants cluster-admin to ${subjects.join(", ") || "no subject"}`);
        },
    },
    knativePolicy(
        "knative-bounded-max-scale",
        "Knative Services must set a bounded autoscaling.knative.dev/max-scale on their revision template, at most maxScaleLimit. Source: Knative autoscaling docs (scale bounds); a runaway service must not take the shared nodes.",
        (template, args) => {
            const limit = args.getConfig<{ maxScaleLimit?: number }>().maxScaleLimit ?? 100;
            const value = at(template, "metadata", "annotations", "autoscaling.knative.dev/max-scale") as
                string | undefined;
            const max = Number(value);
            if (value === undefined || !Number.isInteger(max) || max < 1)
                return "sets no bounded autoscaling.knative.dev/max-scale";
            return max > limit ? `asks for max-scale ${max}, above the limit ${limit}` : undefined;
        },
    ),
    knativePolicy(
        "knative-container-concurrency",
        "Knative Services' containerConcurrency must lie within 0..1000 (Knative's container-concurrency-max-limit). Source: knative/serving ValidateContainerConcurrency.",
        (template) => {
            const cc = (template.spec as Props | undefined)?.containerConcurrency as number | undefined;
            return cc !== undefined && (cc < 0 || cc > 1000)
                ? `sets containerConcurrency ${cc}, outside 0..1000`
                : undefined;
        },
    ),
    knativePolicy(
        "knative-no-service-account-token",
        "Knative Services should not mount a service account token unless they call the Kubernetes API. Source: Polaris automountServiceAccountToken, CIS 5.1.6.",
        (template) =>
            (template.spec as Props | undefined)?.automountServiceAccountToken === false
                ? undefined
                : "mounts the service account token",
    ),
    {
        name: "mesh-mtls-strict",
        description:
            "Mesh-wide and namespace-wide PeerAuthentications must not weaken mTLS below STRICT; only port-level exceptions for webhooks are allowed (mandatory in prod, where the platform's config refuses PERMISSIVE; advisory where config allows it). Source: Istio security best practices.",
        validateResource: (args, report) => {
            if (args.type !== "kubernetes:security.istio.io/v1:PeerAuthentication") return;
            const spec = (args.props.spec as Props | undefined) ?? {};
            const mode = (spec.mtls as Props | undefined)?.mode as string | undefined;
            if (spec.selector === undefined && mode !== undefined && mode !== "STRICT") {
                report(
                    `sets mTLS mode ${mode} for a whole ${namespaceOf(args.props) === "istio-system" ? "mesh" : "namespace"}`,
                );
            }
        },
    },
    {
        name: "no-public-monitoring-ui",
        description:
            "Monitoring UIs (Grafana, Kibana, Kiali, Prometheus) must not be reachable from outside the cluster unless the stack allows it (allowPublicMonitoring), by any way out: an Istio VirtualService on a gateway (in any namespace, routing to a monitoring Service), an Ingress, a Gateway API route, or a LoadBalancer or NodePort Service in the monitoring namespace. Source: platform design: exposure is an explicit choice; NSA/CISA Kubernetes Hardening Guide (limit exposed dashboards).",
        configSchema: { properties: { allowPublicMonitoring: { type: "boolean", default: false } } },
        validateResource: (args, report) => {
            if (args.getConfig<{ allowPublicMonitoring?: boolean }>().allowPublicMonitoring === true) return;
            const exposure = monitoringExposure(args.type, args.props);
            if (exposure !== undefined) report(exposure);
        },
    },
    {
        name: "app-namespaces-restricted",
        description:
            'Namespaces other than the platform\'s own must enforce the Pod Security "restricted" profile. Source: Kubernetes Pod Security Admission.',
        validateResource: (args, report) => {
            if (args.type !== "kubernetes:core/v1:Namespace") return;
            const name = String(args.props.metadata?.name ?? "");
            if (isSystemNamespace(name)) return;
            const enforce = (args.props.metadata?.labels as Props | undefined)?.["pod-security.kubernetes.io/enforce"];
            if (enforce !== "restricted")
                report(`namespace "${name}" enforces ${JSON.stringify(enforce ?? "nothing")}, not "restricted"`);
        },
    },
    {
        name: "pdb-for-replicated-workloads",
        description:
            "A workload scaled above one replica needs a PodDisruptionBudget selecting it, so node drains keep it available (enforced in prod). Source: Kubernetes disruption docs, Polaris missingPodDisruptionBudget.",
        validateStack: (args, report) => {
            const pdbs = args.resources.filter((r) => r.type === "kubernetes:policy/v1:PodDisruptionBudget");
            const replicated = args.resources.filter(
                (r) =>
                    ["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet"].includes(r.type) &&
                    Number((r.props.spec as Props | undefined)?.replicas ?? 1) > 1,
            );
            for (const workload of replicated) {
                if (!pdbs.some((pdb) => pdbCovers(pdb, workload))) {
                    report(
                        `${String(workload.props.metadata?.namespace)}/${String(workload.props.metadata?.name)} runs ${String(workload.props.spec.replicas)} replicas without a PodDisruptionBudget`,
                        workload.urn,
                    );
                }
            }
        },
    },
];

const MONITORING = "monitoring";

/** Whether a route destination host names a Service of the monitoring namespace (`grafana.monitoring`, `….monitoring.svc.cluster.local`). */
const isMonitoringHost = (host: unknown): boolean =>
    typeof host === "string" && new RegExp(`^[a-z0-9-]+\\.${MONITORING}(\\.svc(\\.cluster\\.local)?)?$`).test(host);

/** How a resource lets the monitoring UIs out of the cluster, in words, or undefined if it does not. */
function monitoringExposure(type: string, props: Props): string | undefined {
    const spec = objectAt(props, "spec") ?? {};
    const inMonitoring = namespaceOf(props) === MONITORING;
    if (type === "kubernetes:networking.istio.io/v1:VirtualService") {
        const gateways = ((spec.gateways as string[] | undefined) ?? []).filter((g) => g !== "mesh");
        const routes = [...((spec.http as Props[] | undefined) ?? []), ...((spec.tcp as Props[] | undefined) ?? [])];
        const destinations = routes.flatMap((r) =>
            ((r.route as Props[] | undefined) ?? []).map((d) => at(d, "destination", "host")),
        );
        if (gateways.length > 0 && (inMonitoring || destinations.some(isMonitoringHost)))
            return `exposes ${((spec.hosts as string[] | undefined) ?? []).join(", ")} through ${gateways.join(", ")}`;
    }
    if (type === "kubernetes:networking.k8s.io/v1:Ingress" && inMonitoring)
        return "is an Ingress in the monitoring namespace";
    if (type.startsWith("kubernetes:gateway.networking.k8s.io/") && type.endsWith("Route")) {
        const backends = ((spec.rules as Props[] | undefined) ?? []).flatMap(
            (r) => (r.backendRefs as Props[] | undefined) ?? [],
        );
        if (inMonitoring || backends.some((b) => b.namespace === MONITORING))
            return "routes a Gateway API route to the monitoring namespace";
    }
    if (
        type === "kubernetes:core/v1:Service" &&
        inMonitoring &&
        ["LoadBalancer", "NodePort"].includes(String(spec.type))
    )
        return `is a ${String(spec.type)} Service in the monitoring namespace`;
    return undefined;
}

/** Whether a PDB in the workload's namespace selects its pods (by the workload's `app` label or its name). */
function pdbCovers(pdb: PolicyResource, workload: PolicyResource): boolean {
    const same = pdb.props.metadata?.namespace === workload.props.metadata?.namespace;
    const selector = (pdb.props.spec?.selector?.matchLabels as Props | undefined) ?? {};
    const app =
        (workload.props.spec?.template?.metadata?.labels as Props | undefined)?.app ?? workload.props.metadata?.name;
    return same && selector.app === app;
}

/** Names of every policy. */
export const POLICY_NAMES = POLICIES.map((p) => p.name);

/** Policy pack config of one environment: enforcement per policy plus the policies' own settings. */
export type PolicyConfig = Record<
    string,
    EnforcementLevel | { enforcementLevel?: EnforcementLevel; [key: string]: unknown }
>;
