/**
 * The platform stack on the real engine and the simulated cluster, one environment per test file
 * (platform-<environment>.e2e.test.ts, each in a round of its own: vitest.e2e.config.ts), with
 * every upstream source pointed at a local mirror of upstream's real artefacts (mirror/: the
 * pinned charts and Knative's release manifests; eventing-kafka-broker's data plane is the one
 * stand-in). Upstream programs run as the cluster host runs them (toolchain/cluster-host.ts):
 * Knative Serving's own webhook, so a ConfigMap value Knative refuses fails `up` as it would on a
 * real cluster, and ECK's own operator, which reconciles the logs cluster and validates it. What
 * is asserted is read back from the API server or reported by the engine.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import type {
    V1ConfigMap,
    V1CustomResourceDefinition,
    V1CustomResourceDefinitionList,
    V1Deployment,
    V1NodeList,
    V1Pod,
    V1PodList,
    V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { NODE_POOL_SCHEMA, type NodePool } from "../components/platform/config/node-pool.ts";
import { defaultsOf } from "../components/platform/config/schema.ts";
import { stackFieldManager } from "../components/shared/field-manager.ts";
import { DEFAULT_KNATIVE, KNATIVE_MINORS, type KnativeMinor } from "../components/platform/versions.ts";
import { engineOutput, stackFile } from "../toolchain/engine.ts";
import { STORAGE_CLASSES, unprovisionedStorageClass } from "../toolchain/local-cluster.ts";
import { CRD_SET_TYPE, appliedObjects } from "./leftovers.ts";
import { whereReadable } from "./secret-leaks.ts";
import { LOGS_ELASTICSEARCH, appliedTwice, secretsReadByPods } from "./platform-reads.ts";
import { type Mirror, startMirror } from "./mirror/index.ts";
import { type World, appliersOf, eventually, project, stackOf, startWorld, stepRecorder } from "./world.ts";

export const PLATFORM = project(".");

/** The Knative release before the default: prod's upgrade test starts from it, dev's downgrade test goes back to it. */
export const PREVIOUS_KNATIVE: KnativeMinor = (() => {
    const previous = KNATIVE_MINORS[KNATIVE_MINORS.indexOf(DEFAULT_KNATIVE) - 1];
    if (previous === undefined)
        throw new Error(`components/platform/versions.ts has no release before ${DEFAULT_KNATIVE}`);
    return previous;
})();
const POLICY = join(process.cwd(), "policy");

/** One section of an environment's stack file, as written there. */
export function stackSection(environment: string, key: string): any {
    return stackFile(PLATFORM, environment).config[`serverless-platform:${key}`];
}

/** The node pool of an environment's stack file, with the schema's defaults for what it leaves out. */
function stackNodePool(environment: string): NodePool {
    return { ...defaultsOf(NODE_POOL_SCHEMA), ...stackSection(environment, "nodePool") };
}

/** Config that points every upstream source at the mirror. */
function mirrorSources(mirror: Mirror): Record<string, string> {
    return Object.fromEntries(
        Object.entries(mirror.sources).map(([key, value]) => [`serverless-platform:sources.${key}`, value]),
    );
}

/**
 * A platform stack in a world of its own: a fresh cluster, the mirror, and the environment's stack
 * with its sources on the mirror (and `configPaths` on top).
 */
export async function platformWorld(environment: string, configPaths: Record<string, string> = {}) {
    // The environment's cluster has the node pool its stack file declares (or the platform's default pool).
    const world = await startWorld(stackNodePool(environment));
    // The environment's cluster has the StorageClasses its stack file names (prod's fast-ssd) besides its default.
    const { metrics, logs } = stackSection(environment, "monitoring") ?? {};
    for (const name of new Set([metrics?.storageClass, logs?.storageClass].filter((c) => c !== undefined))) {
        await world.kube("POST", STORAGE_CLASSES, unprovisionedStorageClass(name));
    }
    const mirror = await startMirror(join(world.dir, "mirror"));
    const stack = await stackOf(world, PLATFORM, environment, {
        configPaths: { ...mirrorSources(mirror), ...configPaths },
    });
    const stop = async () => {
        await mirror.stop();
        await world.stop();
    };
    return { world, mirror, stack, stop };
}

/** A platform stack under test, there once its world has started (read it inside a test). */
export interface PlatformUnderTest {
    world: World;
    mirror: Mirror;
    stack: automation.Stack;
}

/** What an environment's file adds to the proofs every environment passes. */
export interface EnvironmentTests {
    /** Config on top of the stack file and the mirror's sources. */
    configPaths?: Record<string, string>;
    /**
     * Registers a test that cuts the first `up` short and leaves the stack as the failure's advice says
     * (cleared); the first `up`'s proofs then run on the resumed run, with `--refresh` as advised.
     */
    interruptFirstUp?: (platform: PlatformUnderTest) => void;
    /** Registers the environment's own tests, in order, after the common ones. */
    own: (platform: PlatformUnderTest) => void;
}

/**
 * The environment's platform on a world of its own (its stack file, every source on the mirror):
 * first the proofs every environment passes (a first `up` under the policy pack, objects with one owner,
 * Secrets, ECK's webhook, a no-change preview, no secret leaked), then the environment's own, on the
 * same world.
 */
export function describePlatform(
    environment: string,
    { configPaths = {}, interruptFirstUp, own }: EnvironmentTests,
): void {
    describe(`the ${environment} platform`, () => {
        let world: World;
        let mirror: Mirror;
        let stack: automation.Stack;
        let stop: () => Promise<void>;
        const knative = stackSection(environment, "knative");
        const eventing = stackSection(environment, "eventing");
        // The environment's own tests read the same world, once it has started.
        const platform: PlatformUnderTest = {
            get world() {
                return world;
            },
            get mirror() {
                return mirror;
            },
            get stack() {
                return stack;
            },
        };
        /** What the engine printed for the stack's runs (to look for secrets in). */
        let printed = "";

        beforeAll(async () => {
            ({ world, mirror, stack, stop } = await platformWorld(environment, configPaths));
        }, 1_800_000);

        afterAll(() => stop());

        // A new environment's pull request previews it before anything is installed: the charts' custom resources
        // (kube-prometheus-stack's Prometheus, say) have no CRD on the cluster yet (see chartCrds).
        test("a first preview, on the empty cluster, shows everything up creates and changes nothing", async () => {
            const CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
            const crdsBefore = await world.kube<V1CustomResourceDefinitionList>("GET", CRDS);
            const recorder = stepRecorder();
            const preview = await stack.preview({ onEvent: recorder.onEvent });
            printed += preview.stdout + preview.stderr;
            const created = recorder.steps.filter((step) => step.op === "create").map((step) => step.type);
            expect(created).toContain(CRD_SET_TYPE);
            expect(created).toContain("kubernetes:apps/v1:Deployment");
            // kube-prometheus-stack's custom resources, whose scope the provider reads from the chart's own CRDs
            // here (the chart renders them in a preview against a cluster that lacks them; up applies the set's).
            expect(created).toContain("kubernetes:monitoring.coreos.com/v1:Prometheus");
            expect(
                recorder.steps.filter(
                    (step) =>
                        step.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" &&
                        step.name.startsWith("monitoring-metrics-kube-prometheus-stack:"),
                ),
            ).not.toEqual([]);
            expect(recorder.steps.filter((step) => step.op !== "create").map((step) => step.type)).toEqual([]);
            const crdsAfter = await world.kube<V1CustomResourceDefinitionList>("GET", CRDS);
            expect(crdsAfter.items.length).toBe(crdsBefore.items.length);
        }, 600_000);

        interruptFirstUp?.(platform);

        // The policy pack runs inside `up` itself, as it runs in a preview: each resource is checked before
        // it is created, and a mandatory violation fails the run. One run proves both.
        test("up succeeds under the policy pack (its documented exceptions only), every upstream source read from the mirror and every Knative ConfigMap accepted by Knative's own config webhook", async () => {
            const result = await stack.up({
                ...engineOutput,
                refresh: interruptFirstUp !== undefined,
                policyPacks: [POLICY],
                policyPackConfigs: [join(POLICY, "config", `${environment}.json`)],
            });
            printed += result.stdout + result.stderr;
            expect(result.summary.result).toBe("succeeded");
            expect(result.stdout).toMatch(/Policies:/);
            expect(result.stdout).not.toMatch(/mandatory/);
            expect(mirror.requests.get("/istio/index.yaml")).toBeGreaterThan(0);
            const autoscaler = await world.kube<V1ConfigMap>(
                "GET",
                "/api/v1/namespaces/knative-serving/configmaps/config-autoscaler",
            );
            expect(autoscaler.data).toMatchObject({
                "max-scale-limit": String(knative.maxScaleLimit),
                "max-scale": String(knative.maxScaleLimit),
                "allow-zero-initial-scale": String(knative.allowZeroInitialScale),
            });
            // Knative's webhook runs (on the cluster host) and registered its config validation itself; it
            // refuses in its own words what the platform's config refuses at program time.
            const refusals = [
                ["config-autoscaler", { "max-scale": "0" }, /max-scale = 0, must be in \[1, max-scale-limit/],
                ["config-autoscaler", { "stable-window": "5s" }, /stable-window = 5s, must be in \[6s; 1h0m0s\] range/],
                [
                    "config-deployment",
                    { "progress-deadline": "0s" },
                    /progress-deadline cannot be a non-positive duration/,
                ],
                // The metrics keys the platform sets are Knative's own: an unknown protocol is refused.
                [
                    "config-observability",
                    { "metrics-protocol": "carrier-pigeon" },
                    /unsupported protocol \\"carrier-pigeon/,
                ],
            ] as const;
            for (const [configMap, data, message] of refusals) {
                const refused = world.kube(
                    "PATCH",
                    `/api/v1/namespaces/knative-serving/configmaps/${configMap}`,
                    { data },
                    "application/merge-patch+json",
                );
                await expect(refused).rejects.toThrow(message);
            }
        }, 1_200_000);

        test("upstream objects the platform configures keep one owner and carry the stack's values", async () => {
            const replicas = Number(knative.replicas ?? 1);
            const hpaOf = (namespace: string, name: string) =>
                world.kube<V2HorizontalPodAutoscaler>(
                    "GET",
                    `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/${name}`,
                );
            const deploymentOf = (namespace: string, name: string) =>
                world.kube<V1Deployment>("GET", `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
            const hpa = await hpaOf("knative-serving", "webhook");
            expect(hpa.spec.minReplicas).toBe(replicas);
            expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(replicas);
            const controller = await deploymentOf("knative-serving", "controller");
            expect(controller.spec?.replicas).toBe(replicas);
            expect(appliersOf(controller)).toEqual([stackFieldManager("serverless-platform", environment)]);
            expect(appliedTwice(await appliedObjects(stack))).toEqual([]);
            const kafkaSettings = await world.kube<V1ConfigMap>(
                "GET",
                "/api/v1/namespaces/knative-eventing/configmaps/kafka-broker-config",
            );
            // istiod's chart reads its settings at the top level: they reach its HPA and pods.
            const istioReplicas = Number(stackSection(environment, "istio")?.replicas ?? 1);
            const istiodHpa = await hpaOf("istio-system", "istiod");
            expect(istiodHpa.spec.minReplicas).toBe(istioReplicas);
            const istiod = (await deploymentOf("istio-system", "istiod")).spec?.template.spec;
            expect(istiod?.containers[0]?.resources?.limits?.memory).toBe("4Gi");
            expect(istiod?.affinity === undefined).toBe(istioReplicas === 1);
            if (eventing.broker === "kafka") {
                expect(kafkaSettings.data?.["bootstrap.servers"]).toBe(eventing.kafka.bootstrapServers.join(","));
                expect(kafkaSettings.data?.["default.topic.partitions"]).toBe(String(eventing.kafka.partitions));
            }
        });

        test("the charts' and Knative's CRDs are served, applied by the stack, and recorded by name and digest only", async () => {
            const { deployment } = await stack.exportStack();
            const resources = deployment.resources as { type: string; urn: string; outputs?: any }[];
            const sets = new Map(
                resources
                    .filter((r) => r.type === CRD_SET_TYPE)
                    .map((r) => [r.urn.slice(r.urn.lastIndexOf("::") + 2), r] as const),
            );
            // Each chart's and each Knative manifest's CRDs, all of its own API groups.
            const expected: Record<string, RegExp> = {
                "istio-crds": /\.istio\.io$/,
                "monitoring-logs-eck-crds": /\.k8s\.elastic\.co$/,
                "monitoring-metrics-prometheus-operator-crds": /^monitoring\.coreos\.com$/,
                "knative-serving-core-crds": /\.knative\.dev$/,
                "knative-eventing-core-crds": /\.knative\.dev$/,
                "knative-eventing-kafka-controller-crds": /\.knative\.dev$/,
                ...(eventing.broker === "kafka"
                    ? {}
                    : { "knative-eventing-in-memory-channel-crds": /\.knative\.dev$/ }),
            };
            expect([...sets.keys()].sort()).toEqual(Object.keys(expected).sort());
            for (const [setName, set] of sets) {
                const recorded = set.outputs.crds as Record<string, string>;
                expect(Object.keys(recorded).length, setName).toBeGreaterThan(0);
                expect(Object.values(recorded).every((digest) => /^sha256:[0-9a-f]{64}$/.test(digest))).toBe(true);
                // No schema in the state: the record is its names and digests, and the provider's code.
                expect(JSON.stringify(set).length, setName).toBeLessThan(32_000);
                for (const name of Object.keys(recorded)) {
                    const crd = await world.kube<V1CustomResourceDefinition>(
                        "GET",
                        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
                    );
                    expect(crd.spec.group, name).toMatch(expected[setName] ?? /^no such set$/);
                    expect(crd.status?.conditions?.find((c) => c.type === "Established")?.status, name).toBe("True");
                    expect(appliersOf(crd), name).toEqual([stackFieldManager("serverless-platform", environment)]);
                }
            }
            // No chart or manifest installs one of its own: the state holds no CRD object.
            const stored = resources.filter(
                (r) => r.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
            );
            expect(stored.map((r) => r.urn)).toEqual([]);
            // Serving's own custom resources, objects of their own (not the ConfigFile's), applied by the stack.
            for (const [type, path] of [
                [
                    "kubernetes:caching.internal.knative.dev/v1alpha1:Image",
                    "/apis/caching.internal.knative.dev/v1alpha1/namespaces/knative-serving/images/queue-proxy",
                ],
                [
                    "kubernetes:networking.internal.knative.dev/v1alpha1:Certificate",
                    "/apis/networking.internal.knative.dev/v1alpha1/namespaces/knative-serving/certificates/routing-serving-certs",
                ],
            ] as const) {
                const own = resources.filter((r) => r.type === type).map((r) => r.urn);
                expect(own, type).toEqual([expect.not.stringContaining("kubernetes:yaml/v2:ConfigFile")]);
                expect(appliersOf(await world.kube("GET", path)), path).toEqual([
                    stackFieldManager("serverless-platform", environment),
                ]);
            }
            // 35 in all: Knative's 12 Serving, 17 Eventing, 5 Kafka, and the in-memory channel's where it runs.
            const knative = [...sets].filter(([name]) => name.startsWith("knative-"));
            expect(knative.flatMap(([, set]) => Object.keys(set.outputs.crds as object)).length).toBe(
                eventing.broker === "kafka" ? 34 : 35,
            );
        });

        test("the real scheduler places every pod of the platform, sidecars included, on the stack's node pool", async () => {
            const pool = stackNodePool(environment);
            const nodes = await world.kube<V1NodeList>("GET", "/api/v1/nodes");
            expect(nodes.items.map((node) => node.status?.allocatable)).toEqual(
                Array.from({ length: pool.nodes }, () =>
                    expect.objectContaining({ cpu: pool.cpu, memory: pool.memory }),
                ),
            );
            const pods = await world.kube<V1PodList>("GET", "/api/v1/pods");
            // Nothing provisions volumes here (README, stand-ins): a pod with a claim waits for its volume, not for room.
            const waitsForItsVolume = (pod: V1Pod) =>
                (pod.status?.conditions ?? []).some(
                    (c) =>
                        c.type === "PodScheduled" && /persistentvolumeclaim|persistent volumes/i.test(c.message ?? ""),
                );
            const unplaced = pods.items
                .filter((pod) => pod.spec?.nodeName === undefined && !waitsForItsVolume(pod))
                .map(
                    (pod) =>
                        `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}: ${pod.status?.conditions?.[0]?.message ?? "not scheduled"}`,
                );
            expect(unplaced).toEqual([]);
            // ECK's Elasticsearch, Prometheus and the warm schedulers are there, and the mesh's pods have their sidecar.
            const names = pods.items.map((pod) => pod.metadata?.name ?? "");
            expect(names).toEqual(
                expect.arrayContaining([expect.stringMatching(/^logs-es-/), expect.stringMatching(/^prometheus-/)]),
            );
            const scheduler = pods.items.find((pod) => pod.metadata?.name?.startsWith("warm-scheduler-"));
            expect(scheduler?.spec?.initContainers?.map((c) => c.name)).toContain("istio-proxy");
        });

        test("every Secret a pod reads exists: ECK's own operator creates the Elasticsearch cluster's and Kibana's", async () => {
            const missing = async () => {
                const absent: string[] = [];
                for (const secret of await secretsReadByPods(world)) {
                    const [namespace, name] = secret.split("/");
                    const exists = await world.kube("GET", `/api/v1/namespaces/${namespace}/secrets/${name}`).then(
                        () => true,
                        () => false,
                    );
                    if (!exists) absent.push(secret);
                }
                return absent;
            };
            // The operator reconciles after `up` has returned.
            await eventually("every Secret read by a pod", async () => (await missing()).length === 0, 3).catch(
                () => undefined,
            );
            expect(await missing()).toEqual([]);
        }, 600_000);

        test("ECK's own webhook validates the Elasticsearch cluster: a downgrade is refused in ECK's words", async () => {
            const live = await world.kube<{ spec: Record<string, unknown> }>("GET", LOGS_ELASTICSEARCH);
            await expect(
                world.kube("PUT", `${LOGS_ELASTICSEARCH}?dryRun=All`, {
                    ...live,
                    spec: { ...live.spec, version: "8.0.0" },
                }),
            ).rejects.toThrow(
                /admission webhook .{0,2}"elastic-es-validation-v1\.k8s\.elastic\.co.{0,2}" denied the request: .*spec\.version: Invalid value: .{0,2}"8\.0\.0.{0,2}": Downgrades are not supported/,
            );
        });

        test("a second preview shows no changes", async () => {
            const recorder = stepRecorder();
            const preview = await stack.preview({ diff: true, onEvent: recorder.onEvent });
            printed += preview.stdout + preview.stderr;
            expect(recorder.changed()).toEqual([]);
        }, 600_000);

        test("no secret is readable in plain text but in its own Secret: not in the state, the engine's output or any other object", async () => {
            const readable: Record<string, string[]> = {};
            for (const key of ["grafanaAdminPassword", "logShipperPassword"]) {
                const { value } = await stack.getConfig(`serverless-platform:${key}`);
                readable[key] = await whereReadable(world, printed, value);
            }
            expect(readable).toEqual({
                grafanaAdminPassword: ["Secret monitoring/grafana-admin"],
                logShipperPassword: ["Secret monitoring/fluent-bit-elasticsearch"],
            });
        }, 600_000);

        own(platform);
    });
}
