import type {
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import hourlyStats from "../examples/hourly-stats/index.ts";
import springApi from "../examples/spring-api/index.ts";
import { ServerlessService } from "../components/index.ts";
import { POLICIES, POLICY_NAMES, type PolicyConfig } from "../policy/policies.ts";
import { UPSTREAM_EXCEPTIONS } from "../policy/upstream-exceptions.ts";
import { type Registered, runProgram } from "./harness.ts";
import { platformUnderTest, STACKS, platformOutputs, stackConfig } from "./stacks.ts";

type Props = Record<string, any>;

function policy(name: string): ResourceValidationPolicy & StackValidationPolicy {
    const found = POLICIES.find((p) => p.name === name);
    if (!found) throw new Error(`no policy ${name}`);
    return found as ResourceValidationPolicy & StackValidationPolicy;
}

/** Settings a policy reads: its configSchema's defaults, then the given ones. */
function configOf(name: string, settings: Props = {}): Props {
    const schema = (policy(name).configSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
    return { ...Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, v.default])), ...settings };
}

/** Runs one resource policy's own handlers on a resource, as the engine would; returns the violations. */
async function violations(name: string, type: string, props: Props, settings: Props = {}): Promise<string[]> {
    const found: string[] = [];
    const args = {
        type,
        props,
        urn: `urn:pulumi:dev::test::${type}::example`,
        name: "example",
        opts: {},
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: () => configOf(name, settings),
        notApplicable: () => {
            throw new Error("not applicable");
        },
    } as unknown as ResourceValidationArgs;
    const handlers = policy(name).validateResource;
    for (const handler of Array.isArray(handlers) ? handlers : handlers ? [handlers] : []) {
        await handler(args, (message) => found.push(message));
    }
    return found;
}

/** A restricted-profile container, and a Deployment and a Knative Service around one. */
const goodContainer = {
    name: "app",
    image: "registry.example.com/api:1.2.3",
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "256Mi" } },
    securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    },
    env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }],
};
const deployment = (container: Props, pod: Props = {}) => ({
    metadata: { name: "api", namespace: "games-web" },
    spec: {
        replicas: 1,
        template: { metadata: { labels: { app: "api" } }, spec: { containers: [container], ...pod } },
    },
});
const knativeService = (annotations: Props, spec: Props = {}) => ({
    metadata: { name: "api", namespace: "games-web" },
    spec: {
        template: {
            metadata: { annotations },
            spec: {
                containers: [goodContainer],
                automountServiceAccountToken: false,
                containerConcurrency: 0,
                ...spec,
            },
        },
    },
});
const DEPLOY = "kubernetes:apps/v1:Deployment";
const KSVC = "kubernetes:serving.knative.dev/v1:Service";

/** Each policy: a compliant resource (no violation) and a violating one (this message). */
const cases: { policy: string; type: string; good: Props; bad: Props; message: string; settings?: Props }[] = [
    {
        policy: "no-privileged-containers",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({ ...goodContainer, securityContext: { privileged: true } }),
        message: 'container "app" runs privileged',
    },
    {
        policy: "run-as-non-root",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({ ...goodContainer, securityContext: {} }),
        message: 'container "app" does not set runAsNonRoot: true',
    },
    {
        policy: "no-privilege-escalation",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({ ...goodContainer, securityContext: { allowPrivilegeEscalation: true } }),
        message: 'container "app" allows privilege escalation',
    },
    {
        policy: "drop-all-capabilities",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({ ...goodContainer, securityContext: { capabilities: { drop: ["all"] } } }),
        message: 'container "app" does not drop ALL capabilities',
    },
    {
        policy: "seccomp-runtime-default",
        type: DEPLOY,
        good: deployment(
            { ...goodContainer, securityContext: {} },
            { securityContext: { seccompProfile: { type: "RuntimeDefault" } } },
        ),
        bad: deployment({ ...goodContainer, securityContext: { seccompProfile: { type: "Unconfined" } } }),
        message: 'container "app" has no RuntimeDefault seccomp profile',
    },
    {
        policy: "resource-requests-and-limits",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({ ...goodContainer, resources: { requests: { cpu: "1" } } }),
        message: 'container "app" does not set requests.memory, limits.memory',
    },
    {
        policy: "image-pinned",
        type: KSVC,
        good: knativeService({ "autoscaling.knative.dev/max-scale": "3" }),
        bad: knativeService({}, { containers: [{ ...goodContainer, image: "registry.example.com/api:latest" }] }),
        message:
            'container "app" uses image "registry.example.com/api:latest", which must not use the moving tag "latest"; pin a version tag or a digest',
    },
    {
        policy: "images-from-allowed-registries",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({ ...goodContainer, image: "registri.example.com/api:1.2.3" }),
        settings: { registries: ["registry.example.com"] },
        message:
            'container "app" uses image "registri.example.com/api:1.2.3", whose registry is neither one of the platform\'s upstream registries nor in the policy config\'s registries',
    },
    {
        policy: "read-only-root-filesystem",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({ ...goodContainer, securityContext: { readOnlyRootFilesystem: false } }),
        message: 'container "app" has a writable root filesystem',
    },
    {
        policy: "no-plaintext-secrets-in-env",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment({
            ...goodContainer,
            env: [
                { name: "DB_PASSWORD", value: "hunter2" },
                { name: "LOG_LEVEL", value: "info" },
            ],
        }),
        message: 'container "app" sets DB_PASSWORD as plain text; use a Secret',
    },
    {
        policy: "no-host-namespaces",
        type: DEPLOY,
        good: deployment(goodContainer),
        bad: deployment(goodContainer, { hostNetwork: true, hostPID: true }),
        message: "shares the node's hostNetwork, hostPID",
    },
    {
        policy: "no-host-path-volumes",
        type: DEPLOY,
        good: deployment(goodContainer, { volumes: [{ name: "tmp", emptyDir: {} }] }),
        bad: deployment(goodContainer, { volumes: [{ name: "logs", hostPath: { path: "/var/log" } }] }),
        message: 'mounts the node\'s /var/log (volume "logs")',
    },
    {
        policy: "no-node-ports-in-app-namespaces",
        type: "kubernetes:core/v1:Service",
        good: { metadata: { name: "api", namespace: "games-web" }, spec: { type: "ClusterIP", ports: [{ port: 80 }] } },
        bad: { metadata: { name: "api", namespace: "games-web" }, spec: { type: "NodePort", ports: [{ port: 80 }] } },
        message: "is of type NodePort",
    },
    {
        policy: "no-cluster-admin-bindings",
        type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        good: {
            metadata: { name: "app-team", namespace: "games-web" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "app-team" },
            subjects: [{ kind: "Group", name: "games-web-team" }],
        },
        bad: {
            metadata: { name: "app-team", namespace: "games-web" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
            subjects: [{ kind: "ServiceAccount", namespace: "games-web", name: "default" }],
        },
        message: "grants cluster-admin to ServiceAccount games-web/default",
    },
    {
        policy: "knative-bounded-max-scale",
        type: KSVC,
        good: knativeService({ "autoscaling.knative.dev/max-scale": "5" }),
        bad: knativeService({ "autoscaling.knative.dev/max-scale": "50" }),
        settings: { maxScaleLimit: 20 },
        message: "asks for max-scale 50, above the limit 20",
    },
    {
        policy: "knative-container-concurrency",
        type: KSVC,
        good: knativeService({}),
        bad: knativeService({}, { containerConcurrency: 5000 }),
        message: "sets containerConcurrency 5000, outside 0..1000",
    },
    {
        policy: "knative-no-service-account-token",
        type: KSVC,
        good: knativeService({}),
        bad: knativeService({}, { automountServiceAccountToken: true }),
        message: "mounts the service account token",
    },
    {
        policy: "mesh-mtls-strict",
        type: "kubernetes:security.istio.io/v1:PeerAuthentication",
        good: {
            metadata: { name: "webhook", namespace: "knative-serving" },
            spec: { selector: { matchLabels: { app: "webhook" } }, portLevelMtls: { "8443": { mode: "PERMISSIVE" } } },
        },
        bad: { metadata: { name: "default", namespace: "istio-system" }, spec: { mtls: { mode: "PERMISSIVE" } } },
        message: "sets mTLS mode PERMISSIVE for a whole mesh",
    },
    {
        policy: "no-public-monitoring-ui",
        type: "kubernetes:networking.istio.io/v1:VirtualService",
        good: {
            metadata: { name: "grafana", namespace: "monitoring" },
            spec: { gateways: ["mesh"], hosts: ["grafana"] },
        },
        bad: {
            metadata: { name: "grafana-public", namespace: "monitoring" },
            spec: { gateways: ["knative-serving/knative-ingress-gateway"], hosts: ["grafana.games.example.com"] },
        },
        message: "exposes grafana.games.example.com through knative-serving/knative-ingress-gateway",
    },
    {
        policy: "app-namespaces-restricted",
        type: "kubernetes:core/v1:Namespace",
        good: { metadata: { name: "games-web", labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
        bad: { metadata: { name: "games-web", labels: { "pod-security.kubernetes.io/enforce": "baseline" } } },
        message: 'namespace "games-web" enforces "baseline", not "restricted"',
    },
];

describe("no-public-monitoring-ui sees every way out of the cluster", () => {
    const exposures: [string, string, Props, string][] = [
        [
            "a VirtualService in an app namespace routing to Grafana through a gateway",
            "kubernetes:networking.istio.io/v1:VirtualService",
            {
                metadata: { name: "sneaky", namespace: "games-web" },
                spec: {
                    gateways: ["istio-system/public"],
                    hosts: ["dash.games.example.com"],
                    http: [{ route: [{ destination: { host: "grafana.monitoring.svc.cluster.local" } }] }],
                },
            },
            "exposes dash.games.example.com through istio-system/public",
        ],
        [
            "an Ingress in the monitoring namespace",
            "kubernetes:networking.k8s.io/v1:Ingress",
            {
                metadata: { name: "kibana", namespace: "monitoring" },
                spec: { rules: [{ host: "kibana.example.com" }] },
            },
            "is an Ingress in the monitoring namespace",
        ],
        [
            "a Gateway API route to a monitoring Service from elsewhere",
            "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
            {
                metadata: { name: "kiali", namespace: "games-web" },
                spec: { rules: [{ backendRefs: [{ name: "kiali", namespace: "monitoring", port: 20001 }] }] },
            },
            "routes a Gateway API route to the monitoring namespace",
        ],
        [
            "a LoadBalancer Service in the monitoring namespace",
            "kubernetes:core/v1:Service",
            { metadata: { name: "prometheus-lb", namespace: "monitoring" }, spec: { type: "LoadBalancer" } },
            "is a LoadBalancer Service in the monitoring namespace",
        ],
    ];

    test.each(exposures)(
        "%s is refused, and allowed where the stack allows public monitoring",
        async (_, type, props, message) => {
            expect(await violations("no-public-monitoring-ui", type, props)).toEqual([message]);
            expect(await violations("no-public-monitoring-ui", type, props, { allowPublicMonitoring: true })).toEqual(
                [],
            );
        },
    );

    test("what stays inside passes: a mesh-only VirtualService to Grafana, a ClusterIP Service, an app's own public route", async () => {
        const inside: [string, Props][] = [
            [
                "kubernetes:networking.istio.io/v1:VirtualService",
                {
                    metadata: { name: "grafana", namespace: "games-web" },
                    spec: { gateways: ["mesh"], http: [{ route: [{ destination: { host: "grafana.monitoring" } }] }] },
                },
            ],
            ["kubernetes:core/v1:Service", { metadata: { name: "grafana", namespace: "monitoring" }, spec: {} }],
            [
                "kubernetes:networking.istio.io/v1:VirtualService",
                {
                    metadata: { name: "api", namespace: "games-web" },
                    spec: {
                        gateways: ["istio-system/public"],
                        http: [{ route: [{ destination: { host: "api.games-web.svc.cluster.local" } }] }],
                    },
                },
            ],
        ];
        for (const [type, props] of inside)
            expect(await violations("no-public-monitoring-ui", type, props)).toEqual([]);
    });
});

describe("upstream exceptions are exact", () => {
    // Knative Eventing's request-reply StatefulSet, as eventing-core.yaml ships it: no security context, no resources.
    const requestReply = (namespace: string, name: string) => ({
        metadata: { name, namespace },
        spec: {
            template: {
                spec: {
                    containers: [{ name, image: "gcr.io/knative-releases/request-reply@sha256:" + "a".repeat(64) }],
                },
            },
        },
    });

    test("the named upstream object passes the policies it is excepted from", async () => {
        for (const name of UPSTREAM_EXCEPTIONS[0]!.policies) {
            expect(
                await violations(
                    name,
                    "kubernetes:apps/v1:StatefulSet",
                    requestReply("knative-eventing", "request-reply"),
                ),
            ).toEqual([]);
        }
    });

    test("the same shape under another name or namespace is still refused", async () => {
        expect(
            await violations(
                "run-as-non-root",
                "kubernetes:apps/v1:StatefulSet",
                requestReply("games-web", "request-reply"),
            ),
        ).toHaveLength(1);
        expect(
            await violations(
                "run-as-non-root",
                "kubernetes:apps/v1:StatefulSet",
                requestReply("knative-eventing", "my-statefulset"),
            ),
        ).toHaveLength(1);
    });

    test("a node agent is exempt from host access by name: another workload in its namespace is refused", async () => {
        const withHostPath = (name: string) => ({
            metadata: { name, namespace: "monitoring" },
            spec: {
                template: {
                    spec: {
                        hostNetwork: true,
                        volumes: [{ name: "root", hostPath: { path: "/" } }],
                        containers: [goodContainer],
                    },
                },
            },
        });
        const daemonSet = "kubernetes:apps/v1:DaemonSet";
        const nodeExporter = withHostPath("prometheus-stack-prometheus-node-exporter");
        expect(await violations("no-host-path-volumes", daemonSet, nodeExporter)).toEqual([]);
        expect(await violations("no-host-namespaces", daemonSet, nodeExporter)).toEqual([]);
        expect(await violations("no-host-path-volumes", daemonSet, withHostPath("my-agent"))).toEqual([
            'mounts the node\'s / (volume "root")',
        ]);
        expect(await violations("no-host-namespaces", daemonSet, withHostPath("my-agent"))).toEqual([
            "shares the node's hostNetwork",
        ]);
    });

    test("each exception gives its reason and upstream source", () => {
        for (const exception of UPSTREAM_EXCEPTIONS) {
            expect(exception.reason).toMatch(/\([^()]*\/[^()]*\)$/);
            for (const name of exception.policies) expect(POLICY_NAMES).toContain(name);
        }
    });
});

describe("every policy has its reason and source, and a test", () => {
    test("at least 15 policies, each described with its source", () => {
        expect(POLICY_NAMES.length).toBeGreaterThanOrEqual(15);
        for (const p of POLICIES) {
            expect(p.description, p.name).toMatch(/Source: /);
        }
        const tested = new Set([...cases.map((c) => c.policy), "pdb-for-replicated-workloads"]);
        expect(POLICY_NAMES.filter((n) => !tested.has(n))).toEqual([]);
    });
});

describe.each(cases)("$policy", ({ policy: name, type, good, bad, message, settings }) => {
    test("passes a compliant resource", async () => {
        expect(await violations(name, type, good, settings)).toEqual([]);
    });
    test("reports a violating one", async () => {
        expect(await violations(name, type, bad, settings)).toEqual([message]);
    });
});

describe("pdb-for-replicated-workloads", () => {
    const resource = (type: string, props: Props): PolicyResource =>
        ({
            type,
            props,
            urn: `urn:${type}:${String(props.metadata.name)}`,
            name: String(props.metadata.name),
            opts: {},
        }) as unknown as PolicyResource;
    const run = async (resources: PolicyResource[]) => {
        const found: string[] = [];
        await policy("pdb-for-replicated-workloads").validateStack(
            { resources, getConfig: () => ({}), stackTags: new Map() } as never,
            (message) => found.push(message),
        );
        return found;
    };
    // As the HA transform leaves Knative's controller in serving-core.yaml.
    const replicated = resource("kubernetes:apps/v1:Deployment", {
        metadata: { name: "controller", namespace: "knative-serving" },
        spec: { replicas: 3, template: { metadata: { labels: { app: "controller" } } } },
    });
    test("passes a replicated workload with a PDB", async () => {
        const pdb = resource("kubernetes:policy/v1:PodDisruptionBudget", {
            metadata: { name: "controller-pdb", namespace: "knative-serving" },
            spec: { selector: { matchLabels: { app: "controller" } } },
        });
        expect(await run([replicated, pdb])).toEqual([]);
    });
    test("reports one without", async () => {
        expect(await run([replicated])).toEqual([
            "knative-serving/controller runs 3 replicas without a PodDisruptionBudget",
        ]);
    });
});

/** The engine's view of what a program registered, for policies. */
function asPolicyResources(resources: Registered[]): PolicyResource[] {
    return resources.map((r) => {
        const { status: _status, ...props } = r.inputs;
        return {
            type: r.type,
            props,
            urn: `urn:pulumi:dev::p::${r.type}::${r.name}`,
            name: r.name,
            opts: {},
        } as unknown as PolicyResource;
    });
}

/** Runs every policy that is mandatory in `env` over the resources; returns the violations. */
async function mandatoryViolations(env: string, resources: Registered[]): Promise<string[]> {
    const config = JSON.parse(
        readFileSync(new URL(`../policy/config/${env}.json`, import.meta.url), "utf8"),
    ) as PolicyConfig;
    const found: string[] = [];
    const policyResources = asPolicyResources(resources);
    for (const p of POLICIES) {
        const setting = config[p.name];
        const level = typeof setting === "string" ? setting : (setting?.enforcementLevel ?? "mandatory");
        if (level !== "mandatory") continue;
        const settings = typeof setting === "object" ? setting : {};
        for (const r of policyResources) {
            for (const message of await violations(p.name, r.type, r.props, settings))
                found.push(`${p.name} ${r.name}: ${message}`);
        }
        if ("validateStack" in p) {
            const stackCheck = p.validateStack;
            await stackCheck(
                { resources: policyResources, getConfig: () => settings, stackTags: new Map() } as never,
                (message) => found.push(`${p.name}: ${message}`),
            );
        }
    }
    return found;
}

describe("the platform and the example app stacks pass the mandatory policies", () => {
    test.each(STACKS)("platform %s", async (env) => {
        const resources = await runProgram(platformUnderTest, { stack: env, config: stackConfig(env) });
        expect(await mandatoryViolations(env, resources)).toEqual([]);
    });

    test.each(STACKS)("example app stacks on %s", async (env) => {
        const ref = `acme/serverless-platform/${env}`;
        const stackOutputs = { [ref]: await platformOutputs(env) };
        const hourly = await runProgram(() => hourlyStats(), {
            project: "hourly-stats",
            stack: env,
            config: { "hourly-stats:platformStack": ref },
            stackOutputs,
        });
        const spring = await runProgram(() => springApi(), {
            project: "spring-api",
            stack: env,
            config: { "spring-api:platformStack": ref, "spring-api:dbPassword": "s3cret" },
            stackOutputs,
        });
        expect([...hourly, ...spring].filter((r) => r.type === KSVC)).toHaveLength(2);
        expect(await mandatoryViolations(env, [...hourly, ...spring])).toEqual([]);
    });

    test("an app that opts out of the secure defaults is refused in prod, warned about in dev", async () => {
        const resources = await runProgram(
            () =>
                new ServerlessService("legacy", {
                    namespace: "games-web",
                    image: "registry.example.com/legacy:3.1.0",
                    scaling: { maxScale: 3 },
                    mountServiceAccountToken: true,
                    readOnlyRootFilesystem: false,
                }),
        );
        expect(resources.some((r) => r.type === KSVC)).toBe(true);
        expect(await mandatoryViolations("prod", resources)).toEqual([
            'read-only-root-filesystem legacy: container "app" has a writable root filesystem',
            "knative-no-service-account-token legacy: mounts the service account token",
        ]);
        expect(await mandatoryViolations("dev", resources)).toEqual([]);
    });
});
