/**
 * The dev platform (see platform.ts for what every environment proves): its first `up` is killed and resumed,
 * the program reads the installed releases from the cluster, a Knative downgrade is refused, a state that
 * lost every object takes them back, a change of replicas updates in place, Chart v4 installs no Helm hooks,
 * a deleted aggregated ClusterRole stays deleted, and destroy leaves only what the stack lets go of (the app
 * namespaces and the CRDs).
 */
import { expect, test } from "vitest";
import { readFileSync } from "node:fs";
import type {
    CoreV1EventList,
    V1ClusterRole,
    V1CustomResourceDefinition,
    V1CustomResourceDefinitionList,
    V1DaemonSet,
    V1Deployment,
    V1DeploymentList,
    V1NamespaceList,
    V1Pod,
    V1PodList,
    V1ValidatingWebhookConfigurationList,
    V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { knativeServiceObject, renderServerlessService } from "../components/app/render.ts";
import { readClusterFacts } from "../components/platform/cluster-facts.ts";
import { minorOf } from "../components/platform/compatibility.ts";
import { DEFAULT_KNATIVE, VERSIONS } from "../components/platform/versions.ts";
import { stackFieldManager } from "../components/shared/field-manager.ts";
import { explainPendingOperations } from "../scripts/failures.ts";
import { engineOutput } from "../toolchain/engine.ts";
import { DEFAULT_STORAGE_CLASS } from "../toolchain/local-cluster.ts";
import { AGGREGATION_CONTROLLER } from "../components/platform/aggregated-roles.ts";
import { appliedObjects, described, stillInCluster } from "./leftovers.ts";
import { PREVIOUS_KNATIVE, type PlatformUnderTest, describePlatform } from "./platform.ts";
import {
    type World,
    appliersOf,
    asPreviewIdentity,
    eventually,
    scratchProject,
    serviceAccountMay,
    stackOf,
    stepRecorder,
} from "./world.ts";
import { OPERATOR_DEPLOYMENT } from "../components/platform/monitoring/metrics.ts";
import { previewAccount } from "../components/platform/preview-identity.ts";
import { PLATFORM_API_GROUPS, groupOfType } from "../components/platform/preview-identity.ts";
import { killWhileItWaits, refusePodsIn } from "./faults.ts";

/**
 * The first `up`, killed (SIGKILL, as a lost machine or an OOM kill ends it) while the provider waits for Istio's
 * first workloads to roll out (istio-system refuses new pods): istiod's Deployment and istio-cni's DaemonSet are
 * stored, their creates in flight. What the failure and `npm run up` then advise clears the stale lock and the
 * creates; the next run (the first `up`'s proofs) takes both over. (Under the provider's random field manager per
 * resource, taking the DaemonSet over failed on a field conflict: see oneFieldManager.)
 */
function killedWhileItWaits(platform: PlatformUnderTest): void {
    test("the first up, killed while istiod's Deployment and istio-cni's DaemonSet wait for their pods, leaves its lock and both creates in flight; cleared as advised, the next up takes them over", async () => {
        const { world, stack } = platform;
        const stored = async (kind: string, name: string) =>
            world.kube("GET", `/apis/apps/v1/namespaces/istio-system/${kind}/${name}`).then(
                () => true,
                () => false,
            );
        const inFlight = await killWhileItWaits(stack, "dev", {
            hold: () => refusePodsIn(world, ["istio-system"]),
            waiting: "istiod's Deployment and istio-cni's DaemonSet are stored",
            waits: async () =>
                (await stored("deployments", "istiod")) && (await stored("daemonsets", "istio-cni-node")),
        });
        const explained = explainPendingOperations("dev", inFlight);
        expect(explained).toContain("creating kubernetes:apps/v1:Deployment istio-istiod:istio-system/istiod");
        expect(explained).toContain("creating kubernetes:apps/v1:DaemonSet istio-cni:istio-system/istio-cni-node");
    }, 1_800_000);
}

const CLUSTER_ROLES = "/apis/rbac.authorization.k8s.io/v1/clusterroles";
/** The rules of the role the test's aggregated role selects, which the aggregation controller copies into it. */
const SELECTED_RULES = [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }];

/**
 * Runs `use` with an aggregated ClusterRole whose rules Kubernetes' aggregation controller has filled in from
 * the role it selects, and deletes both afterwards.
 */
async function withAggregatedRole(world: World, use: (aggregate: string) => Promise<void>): Promise<void> {
    const [aggregate, selected] = ["e2e-aggregated", "e2e-selected"];
    const label = { "e2e.serverless-platform/aggregate": "true" };
    await world.kube("POST", CLUSTER_ROLES, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: selected, labels: label },
        rules: SELECTED_RULES,
    });
    await world.kube("POST", CLUSTER_ROLES, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: aggregate },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: label }] },
    });
    try {
        await eventually("the aggregation controller fills in the aggregated role's rules", async () => {
            const role = await world.kube<V1ClusterRole>("GET", `${CLUSTER_ROLES}/${aggregate}`);
            return (role.rules ?? []).length > 0;
        });
        await use(aggregate);
    } finally {
        for (const name of [aggregate, selected]) {
            await world.kube("DELETE", `${CLUSTER_ROLES}/${name}`).catch(() => undefined);
        }
    }
}

/** Applies a role's rules exactly as Kubernetes' ClusterRole aggregation controller does: forced, under its name. */
function applyAsAggregationController(world: World, name: string): Promise<unknown> {
    return world.kube(
        "PATCH",
        `${CLUSTER_ROLES}/${name}?fieldManager=${AGGREGATION_CONTROLLER}&force=true`,
        {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "ClusterRole",
            metadata: { name },
            rules: SELECTED_RULES,
        },
        "application/apply-patch+yaml",
    );
}

describePlatform("dev", {
    interruptFirstUp: killedWhileItWaits,
    own: (platform) => {
        test("the program reads the cluster as it is: Kubernetes from its API server, each release from what is installed", async () => {
            const { world } = platform;
            const facts = await readClusterFacts({
                kubeconfig: pulumi.output(readFileSync(world.cluster.kubeconfig, "utf8")),
                context: undefined,
            });
            expect(facts).toEqual({
                kubernetes: minorOf(world.cluster.kubernetesVersion),
                installedKnative: DEFAULT_KNATIVE,
                installedIstio: minorOf(VERSIONS.istio),
                installedElasticsearch: minorOf(VERSIONS.elasticStack),
                storageClasses: { names: [DEFAULT_STORAGE_CLASS], default: DEFAULT_STORAGE_CLASS },
                crds: expect.arrayContaining(["services.serving.knative.dev", "alertmanagers.monitoring.coreos.com"]),
            });
        });

        test("every Knative webhook answers the API server outside its pod's sidecar, from the pod's first moment", async () => {
            const { world } = platform;
            const webhooks = [
                "knative-serving/webhook",
                "knative-serving/net-istio-webhook",
                "knative-eventing/eventing-webhook",
                "knative-eventing/kafka-webhook-eventing",
                "knative-eventing/imc-controller",
            ];
            for (const webhook of webhooks) {
                const [namespace, name] = webhook.split("/");
                const deployment = await world.kube<V1Deployment>(
                    "GET",
                    `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`,
                );
                expect(deployment.spec?.template.metadata?.annotations, webhook).toMatchObject({
                    "traffic.sidecar.istio.io/excludeInboundPorts": "8443",
                });
            }
        });

        test("a ServerlessService's revision pod gets the sidecar the installed istiod chart injects, and Pod Security `restricted` admits it", async () => {
            const { world } = platform;
            const namespace = "games-web";
            const service = renderServerlessService("sidecar-probe", {
                namespace,
                image: "registry.example.com/games/sidecar-probe@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904f1b9d6f7c1b1d1d5e3c3a9f0",
                scaling: { minScale: 1, maxScale: 1 },
            });
            const services = `/apis/serving.knative.dev/v1/namespaces/${namespace}/services`;
            await world.kube("POST", services, knativeServiceObject(service));
            try {
                let pod: V1Pod | undefined;
                let refusal: string | undefined;
                await eventually(
                    "Knative's revision pod, or its refusal",
                    async () => {
                        const events = await world.kube<CoreV1EventList>(
                            "GET",
                            `/api/v1/namespaces/${namespace}/events?fieldSelector=reason%3DFailedCreate`,
                        );
                        refusal = events.items.find((event) => event.message?.includes("sidecar-probe"))?.message;
                        const pods = await world.kube<V1PodList>(
                            "GET",
                            `/api/v1/namespaces/${namespace}/pods?labelSelector=serving.knative.dev%2Fservice%3Dsidecar-probe`,
                        );
                        pod = pods.items[0];
                        return pod !== undefined || refusal !== undefined;
                    },
                    3,
                );
                // Without the chart's global.proxy.seccompProfile: `violates PodSecurity "restricted:latest":
                // seccompProfile (pod or containers "istio-validation", "istio-proxy" must set ...)`.
                expect(refusal).toBeUndefined();
                const containers = [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])];
                expect(containers.map((c) => c.name)).toEqual([
                    "istio-validation",
                    "istio-proxy",
                    "app",
                    "queue-proxy",
                ]);
                expect(containers.find((c) => c.name === "istio-proxy")?.securityContext?.seccompProfile).toEqual({
                    type: "RuntimeDefault",
                });
                expect(JSON.parse(pod?.metadata?.annotations?.["sidecar.istio.io/status"] ?? "{}")).toMatchObject({
                    initContainers: ["istio-validation", "istio-proxy"],
                });
            } finally {
                await world.kube("DELETE", `${services}/sidecar-probe`);
            }
        }, 300_000);

        test("a StorageClass the cluster lacks is refused at preview, with the classes it has", async () => {
            const { stack } = platform;
            // Dev's file keeps its logs without a volume: claim one, of a class the cluster lacks, then put it back.
            await stack.setConfig("serverless-platform:monitoring.logs.persistent", { value: "true" }, true);
            await stack.setConfig("serverless-platform:monitoring.logs.storageClass", { value: "fast-ssd" }, true);
            try {
                await expect(stack.preview()).rejects.toThrow(
                    `monitoring.logs.storageClass must name a StorageClass of the cluster; the cluster has ${DEFAULT_STORAGE_CLASS} (default) (got "fast-ssd")`,
                );
            } finally {
                await stack.removeConfig("serverless-platform:monitoring.logs.storageClass", true);
                await stack.setConfig("serverless-platform:monitoring.logs.persistent", { value: "false" }, true);
            }
        }, 600_000);

        test("a node pool the platform and the app namespaces' quotas do not fit is refused at preview, with the sums and the pool", async () => {
            const { stack } = platform;
            await stack.setConfig("serverless-platform:nodePool.nodes", { value: "1" }, true);
            try {
                await expect(stack.preview()).rejects.toThrow(
                    /does not fit its node pool:\s+- the platform's pods request [\d.]+ CPU and [\d.]+Gi and the app namespaces' quotas 12 CPU and 24Gi, [\d.]+ CPU and [\d.]+Gi in all, but the node pool \(nodePool: 1 × 8 CPU, 32Gi\) holds 8 CPU and 32Gi/,
                );
            } finally {
                await stack.setConfig("serverless-platform:nodePool.nodes", { value: "3" }, true);
            }
        }, 600_000);

        test(`going back to Knative ${PREVIOUS_KNATIVE} is refused at preview, from the release the cluster reports`, async () => {
            const { stack } = platform;
            await stack.setConfig("serverless-platform:knative.version", { value: PREVIOUS_KNATIVE }, true);
            await expect(stack.preview()).rejects.toThrow(
                `Knative ${PREVIOUS_KNATIVE} cannot replace the installed ${DEFAULT_KNATIVE}: Knative has no downgrade path (rule knative-one-minor-at-a-time`,
            );
            await stack.removeConfig("serverless-platform:knative.version", true);
        }, 600_000);

        test("a chart's CRD deleted by hand: `up --refresh` finds it gone and applies it again, and nothing else", async () => {
            const { world, stack } = platform;
            const crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/probes.monitoring.coreos.com";
            await world.kube("DELETE", crd);
            await eventually("the CRD is gone", () =>
                world.kube("GET", crd).then(
                    () => false,
                    () => true,
                ),
            );
            const recorder = stepRecorder();
            const healed = await stack.up({ ...engineOutput, refresh: true, onEvent: recorder.onEvent });
            expect(healed.summary.result).toBe("succeeded");
            const applied = recorder.changed().filter((step) => step.op !== "refresh");
            expect(applied.map((step) => `${step.op} ${step.name}`)).toEqual([
                "update monitoring-metrics-prometheus-operator-crds",
            ]);
            const back = await world.kube<V1CustomResourceDefinition>("GET", crd);
            expect(back.status?.conditions?.find((c) => c.type === "Established")?.status).toBe("True");
        }, 600_000);

        test("a state that lost every object (an old backup restored): the next up takes each back as the stack's own, and a preview then shows no changes", async () => {
            const { world, stack } = platform;
            const state = await stack.exportStack();
            const { resources } = state.deployment as { resources: { type: string }[] };
            const forgetful = resources.filter((resource) => resource.type === "pulumi:pulumi:Stack");
            await stack.importStack({ ...state, deployment: { ...state.deployment, resources: forgetful } });
            const result = await stack.up(engineOutput);
            expect(result.summary.result).toBe("succeeded");
            expect(result.summary.resourceChanges).not.toHaveProperty("delete");
            expect(result.summary.resourceChanges).not.toHaveProperty("replace");
            const cni = await world.kube<V1DaemonSet>(
                "GET",
                "/apis/apps/v1/namespaces/istio-system/daemonsets/istio-cni-node",
            );
            expect(appliersOf(cni)).toEqual([stackFieldManager("serverless-platform", "dev")]);
            const recorder = stepRecorder();
            await stack.preview({ onEvent: recorder.onEvent });
            expect(recorder.changed()).toEqual([]);
        }, 1_200_000);

        test("as the platform's preview identity, `preview --refresh` reads the whole stack back and finds nothing changed but its providers' credentials; a change previews as the deploy identity's would, and its `up` is refused by the API server, changing nothing", async () => {
            const { world, stack } = platform;
            const webhookHpa = "/apis/autoscaling/v2/namespaces/knative-serving/horizontalpodautoscalers/webhook";
            const budgets = "/apis/policy/v1/namespaces/knative-serving/poddisruptionbudgets";
            const before = {
                hpa: await world.kube<V2HorizontalPodAutoscaler>("GET", webhookHpa),
                budgets: (await world.kube<{ items: unknown[] }>("GET", budgets)).items.length,
            };
            await asPreviewIdentity(world, stack, previewAccount(), async () => {
                const refreshed = stepRecorder();
                await stack.preview({ refresh: true, onEvent: refreshed.onEvent });
                const changed = refreshed.changed().filter((step) => step.op !== "refresh");
                expect(changed.map((step) => `${step.op} ${step.type}`).sort()).toEqual([
                    "update pulumi:providers:kubernetes",
                    "update pulumi:providers:pulumi-nodejs",
                ]);
                // It read every object back: each is of a kind its rules name (PLATFORM_API_GROUPS, or by resource).
                const { deployment } = await stack.exportStack();
                const groups = new Set(
                    (deployment.resources as { type: string }[]).flatMap(({ type }) => groupOfType(type) ?? []),
                );
                const named = ["", "admissionregistration.k8s.io", "helm.sh", "yaml", ...PLATFORM_API_GROUPS];
                expect([...groups].filter((group) => !named.includes(group))).toEqual([]);

                await stack.setConfig("serverless-platform:knative.replicas", { value: "2" }, true);
                const planned = stepRecorder();
                await stack.preview({ onEvent: planned.onEvent });
                expect(planned.changed().map((step) => `${step.op} ${step.type} ${step.name}`)).toEqual(
                    expect.arrayContaining([
                        "update kubernetes:autoscaling/v2:HorizontalPodAutoscaler knative-serving-core:knative-serving/webhook",
                        "create kubernetes:policy/v1:PodDisruptionBudget knative-serving-controller-pdb",
                    ]),
                );
                const up = await stack.up().then(
                    () => "succeeded",
                    (error: unknown) => String(error),
                );
                expect(up).toContain(
                    "system:serviceaccount:platform-previews:pulumi-preview is a preview identity: it may only dry-run",
                );
            }).finally(() => stack.setConfig("serverless-platform:knative.replicas", { value: "1" }, true));
            const after = await world.kube<V2HorizontalPodAutoscaler>("GET", webhookHpa);
            expect(after.metadata?.resourceVersion).toBe(before.hpa.metadata?.resourceVersion);
            expect((await world.kube<{ items: unknown[] }>("GET", budgets)).items.length).toBe(before.budgets);
        }, 1_200_000);

        test("no monitoring workload but the Prometheus Operator may read a Secret outside its own namespace, by the API server's own authorization: Grafana, Kibana, Kiali, kube-state-metrics, node-exporter, Fluent Bit", async () => {
            const { world } = platform;
            const workloads = await Promise.all(
                ["deployments", "daemonsets"].map((kind) =>
                    world.kube<V1DeploymentList>("GET", `/apis/apps/v1/namespaces/monitoring/${kind}`),
                ),
            );
            const accounts = workloads
                .flatMap((list) => list.items)
                .filter((workload) => workload.metadata?.name !== OPERATOR_DEPLOYMENT)
                .map((workload) => [
                    workload.metadata?.name ?? "",
                    workload.spec?.template.spec?.serviceAccountName ?? "default",
                ]);
            expect(accounts.map(([workload]) => workload).sort()).toEqual([
                "fluent-bit",
                "grafana",
                "kiali",
                "logs-kb",
                "prometheus-stack-kube-state-metrics",
                "prometheus-stack-prometheus-node-exporter",
            ]);
            for (const [workload, name = "default"] of accounts) {
                const account = { namespace: "monitoring", name };
                for (const namespace of ["knative-serving", "games-web", undefined]) {
                    const attributes = { verb: "list", resource: "secrets", ...(namespace ? { namespace } : {}) };
                    expect(
                        await serviceAccountMay(world, account, attributes),
                        `${workload}: ${namespace ?? "all"}`,
                    ).toBe(false);
                }
            }
            // The preview identity: Secrets only where the platform installs.
            const preview = previewAccount();
            expect(
                await serviceAccountMay(world, preview, { verb: "get", resource: "secrets", namespace: "monitoring" }),
            ).toBe(true);
            for (const namespace of ["kube-system", "games-web", undefined]) {
                const attributes = { verb: "get", resource: "secrets", ...(namespace ? { namespace } : {}) };
                expect(await serviceAccountMay(world, preview, attributes), namespace ?? "all").toBe(false);
            }
        });

        test("knative.replicas 1 → 2 previews as in-place updates and new budgets, replacing and deleting nothing", async () => {
            const { world, stack } = platform;
            await stack.setConfig("serverless-platform:knative.replicas", { value: "2" }, true);
            const recorder = stepRecorder();
            await stack.preview({ onEvent: recorder.onEvent });
            const changed = recorder.changed().map((step) => `${step.op} ${step.type} ${step.name}`);
            expect(changed.filter((step) => !/^(update|create) /.test(step))).toEqual([]);
            expect(changed).toEqual(
                expect.arrayContaining([
                    "update kubernetes:apps/v1:Deployment knative-serving-core:knative-serving/controller",
                    "update kubernetes:autoscaling/v2:HorizontalPodAutoscaler knative-serving-core:knative-serving/webhook",
                    "update kubernetes:apps/v1:Deployment knative-eventing-core:knative-eventing/eventing-controller",
                    "create kubernetes:policy/v1:PodDisruptionBudget knative-serving-controller-pdb",
                ]),
            );
            const result = await stack.up(engineOutput);
            expect(result.summary.result).toBe("succeeded");
            const hpa = await world.kube<V2HorizontalPodAutoscaler>(
                "GET",
                "/apis/autoscaling/v2/namespaces/knative-serving/horizontalpodautoscalers/webhook",
            );
            expect(hpa.spec.minReplicas).toBe(2);
        }, 1_200_000);

        test("Pulumi's Helm Chart v4 installs no Helm hooks (why the Prometheus Operator's admission webhook is off)", async () => {
            const { world, mirror } = platform;
            // The chart's own defaults: its admission webhook, with certificate Jobs that are pre/post-install hooks.
            const program = () => {
                new k8s.helm.v4.Chart("defaults", {
                    chart: "kube-prometheus-stack",
                    version: VERSIONS.kubePrometheusStack,
                    namespace: "default",
                    repositoryOpts: { repo: mirror.sources.prometheusChartRepository },
                });
                return Promise.resolve(undefined);
            };
            const scratch = await stackOf(world, scratchProject(world, "helm-hooks"), "dev", { program });
            const recorder = stepRecorder();
            await scratch.preview({ onEvent: recorder.onEvent });
            const registered = recorder.steps.map((step) => `${step.type} ${step.name}`);
            expect(registered).toContain(
                // The chart's full name is truncated to 26 characters ("defaults-kube-prometheus-s").
                "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration defaults:defaults-kube-prometheus-s-admission",
            );
            expect(registered.filter((step) => step.startsWith("kubernetes:batch/v1:Job"))).toEqual([]);
        }, 600_000);

        test("the aggregation controller cannot bring a deleted aggregated ClusterRole back: its apply is refused", async () => {
            const { world } = platform;
            await withAggregatedRole(world, async (aggregate) => {
                await world.kube("DELETE", `${CLUSTER_ROLES}/${aggregate}`);
                await expect(applyAsAggregationController(world, aggregate)).rejects.toThrow(
                    `ClusterRole ${aggregate} was deleted: the ${AGGREGATION_CONTROLLER} fills in the rules of aggregated roles that exist, and creates none`,
                );
                await expect(world.kube("GET", `${CLUSTER_ROLES}/${aggregate}`)).rejects.toThrow(/ 404 /);
            });
        }, 300_000);

        test("destroy leaves nothing of the stack but what it lets go of: the app namespaces and the CRDs", async () => {
            const { world, stack } = platform;
            const applied = await appliedObjects(stack);
            await stack.destroy(engineOutput);
            const { deployment } = await stack.exportStack();
            expect(deployment.resources ?? []).toEqual([]);
            // Every object the stack applied is gone unless the stack lets go of it (a ClusterRole brought back
            // by the aggregation controller after its delete was one such leftover).
            const left = await stillInCluster(world, applied);
            expect(left.filter((object) => !object.retained).map(described)).toEqual([]);
            const namespaces = (await world.kube<V1NamespaceList>("GET", "/api/v1/namespaces")).items.map(
                (ns) => ns.metadata?.name ?? "",
            );
            expect(namespaces.sort()).toEqual([
                "default",
                "games-batch",
                "games-web",
                "kube-node-lease",
                "kube-public",
                "kube-system",
            ]);
            const crds = (
                await world.kube<V1CustomResourceDefinitionList>(
                    "GET",
                    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                )
            ).items.map((crd) => crd.metadata?.name ?? "");
            // The CRDs that stay are exactly those the stack lets go of: Knative's (whose objects in the app
            // namespaces are the app teams'), and the charts' (Istio's, ECK's, the Prometheus Operator's), which
            // their CrdSets let go of as Helm does.
            const retainedCrds = applied.filter((o) => o.kind === "CustomResourceDefinition" && o.retained);
            expect(crds.sort()).toEqual(retainedCrds.map((crd) => crd.name).sort());
            expect(crds).toEqual(
                expect.arrayContaining([
                    "services.serving.knative.dev",
                    "triggers.eventing.knative.dev",
                    "pingsources.sources.knative.dev",
                    "kafkasources.sources.knative.dev",
                    "gateways.networking.istio.io",
                    "elasticsearches.elasticsearch.k8s.elastic.co",
                    "servicemonitors.monitoring.coreos.com",
                ]),
            );
            const webhooks = (
                await world.kube<V1ValidatingWebhookConfigurationList>(
                    "GET",
                    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
                )
            ).items;
            expect(webhooks.map((w) => w.metadata?.name)).toEqual([]);
        }, 1_200_000);

        test("without the platform's guard, the aggregation controller's apply brings a deleted aggregated ClusterRole back", async () => {
            const { world } = platform;
            await withAggregatedRole(world, async (aggregate) => {
                await world.kube("DELETE", `${CLUSTER_ROLES}/${aggregate}`);
                await applyAsAggregationController(world, aggregate);
                const back = await world.kube<V1ClusterRole>("GET", `${CLUSTER_ROLES}/${aggregate}`);
                // A role of rules only, owned by nothing: what a destroy left behind before the guard.
                expect(back.aggregationRule).toBeUndefined();
                expect(appliersOf(back)).toEqual([AGGREGATION_CONTROLLER]);
            });
        }, 300_000);
    },
});
