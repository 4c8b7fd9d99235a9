/**
 * The platform stack on the real engine and the simulated cluster, in each environment, with
 * every upstream source pointed at a local mirror of upstream's real artefacts (mirror/: the
 * pinned charts and Knative's release manifests; eventing-kafka-broker's data plane is the one
 * stand-in). Upstream programs run as the cluster host runs them (toolchain/cluster-host.ts):
 * Knative Serving's own webhook, so a ConfigMap value Knative refuses fails `up` as it would on a
 * real cluster, and ECK's own operator, which reconciles the logs cluster and validates it. What
 * is asserted is read back from the API server or reported by the engine.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type {
    V1ConfigMap,
    V1CustomResourceDefinitionList,
    V1Deployment,
    V1Namespace,
    V1NamespaceList,
    V1PodTemplateSpec,
    V1ObjectMeta,
    V1Secret,
    V1StatefulSet,
    V1ValidatingWebhookConfigurationList,
    V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readClusterFacts } from "../components/platform/cluster-facts.ts";
import { minorOf } from "../components/platform/compatibility.ts";
import { VERSIONS } from "../components/platform/versions.ts";
import * as k8s from "@pulumi/kubernetes";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { engineOutput, stackFile } from "../toolchain/engine.ts";
import { discoverTargets, prometheusConfig } from "./prometheus-targets.ts";
import { whereReadable } from "./secret-leaks.ts";
import { type Mirror, startMirror } from "./mirror/index.ts";
import { type World, eventually, project, scratchProject, stackOf, startWorld, stepRecorder } from "./world.ts";

const PLATFORM = project(".");
const POLICY = join(process.cwd(), "policy");

/** One section of an environment's stack file, as written there. */
function stackSection(environment: string, key: string): any {
    return stackFile(PLATFORM, environment).config[`serverless-platform:${key}`];
}

/** Config that points every upstream source at the mirror. */
function mirrorSources(mirror: Mirror): Record<string, string> {
    return Object.fromEntries(
        Object.entries(mirror.sources).map(([key, value]) => [`serverless-platform:sources.${key}`, value]),
    );
}

/** Every Secret a pod template in the cluster mounts or reads an env var from, as "namespace/name". */
async function secretsReadByPods(world: World): Promise<Set<string>> {
    const read = new Set<string>();
    for (const kind of ["deployments", "daemonsets", "statefulsets"]) {
        const workloads = await world.kube<{
            items: { metadata: V1ObjectMeta; spec: { template: V1PodTemplateSpec } }[];
        }>("GET", `/apis/apps/v1/${kind}`);
        for (const item of workloads.items) {
            const pod = item.spec.template.spec;
            const namespace = item.metadata.namespace ?? "";
            if (pod === undefined) continue;
            for (const volume of pod.volumes ?? []) {
                if (volume.secret?.optional !== true && volume.secret?.secretName)
                    read.add(`${namespace}/${volume.secret.secretName}`);
            }
            for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
                for (const env of container.env ?? []) {
                    const ref = env.valueFrom?.secretKeyRef;
                    if (ref && ref.optional !== true) read.add(`${namespace}/${ref.name}`);
                }
            }
        }
    }
    return read;
}

/**
 * A platform stack in a world of its own: a fresh cluster, the mirror, and the environment's stack
 * with its sources on the mirror (and `configPaths` on top).
 */
async function platformWorld(environment: string, configPaths: Record<string, string> = {}) {
    const world = await startWorld();
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

/**
 * Dev goes up at the Knative release before the pinned one and is upgraded in place, so one world
 * proves both a first install (1.22) and the upgrade path (1.23) on the real manifests.
 */
const BEFORE_UPGRADE = {
    "serverless-platform:knative.version": "1.22",
    // net-istio 1.22 was tested against Istio 1.29, which reached its end of life: the platform's
    // 1.30 is accepted for the step before the upgrade, as a stack still on 1.22 would.
    "serverless-platform:compatibility.accept[0]": "net-istio-istio",
};

// Slow proofs are split across environments, not repeated: the major Elasticsearch upgrade in
// staging, the destroy that stops at the protected logs in prod.
for (const environment of ["dev", "staging", "prod"]) {
    describe(`the ${environment} platform`, () => {
        let world: World;
        let mirror: Mirror;
        let stack: automation.Stack;
        let stop: () => Promise<void>;
        const knative = stackSection(environment, "knative");
        const eventing = stackSection(environment, "eventing");
        const logs = stackSection(environment, "monitoring").logs;
        /** What the engine printed for the stack's runs (to look for secrets in). */
        let printed = "";

        beforeAll(async () => {
            ({ world, mirror, stack, stop } = await platformWorld(
                environment,
                environment === "dev" ? BEFORE_UPGRADE : {},
            ));
        }, 1_800_000);

        afterAll(() => stop());

        // The policy pack runs inside `up` itself, as it runs in a preview: each resource is checked before
        // it is created, and a mandatory violation fails the run. One run proves both.
        test("up succeeds under the policy pack (its documented exceptions only), every upstream source read from the mirror and every Knative ConfigMap accepted by Knative's own config webhook", async () => {
            const result = await stack.up({
                ...engineOutput,
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

        if (environment === "dev") {
            test("Knative 1.22 → 1.23 previews as in-place updates, replacing and deleting nothing, and applies", async () => {
                const installed = await world.kube<V1Namespace>("GET", "/api/v1/namespaces/knative-serving");
                expect(installed.metadata?.labels?.["app.kubernetes.io/version"]).toBe("1.22.1");
                // Back to the stack's own config: the pinned release, no rule accepted.
                await stack.removeConfig("serverless-platform:compatibility");
                await stack.removeConfig("serverless-platform:knative.version", true);
                const recorder = stepRecorder();
                await stack.preview({ onEvent: recorder.onEvent });
                const changed = recorder.changed();
                expect(changed.filter((step) => step.op !== "update").map((s) => `${s.op} ${s.name}`)).toEqual([]);
                expect(changed.map((step) => step.name)).toContain("knative-serving-core:knative-serving");
                const result = await stack.up(engineOutput);
                expect(result.summary.result).toBe("succeeded");
                expect(result.outputs.versions?.value).toMatchObject({
                    knativeServing: "1.23.0",
                    knativeEventing: "1.23.0",
                });
                const upgraded = await world.kube<V1Namespace>("GET", "/api/v1/namespaces/knative-serving");
                expect(upgraded.metadata?.labels?.["app.kubernetes.io/version"]).toBe("1.23.0");
            }, 1_200_000);

            test("the program reads the cluster as it is: Kubernetes from its API server, each release from what is installed", async () => {
                const facts = await readClusterFacts({
                    kubeconfig: pulumi.output(readFileSync(world.cluster.kubeconfig, "utf8")),
                    context: undefined,
                });
                expect(facts).toEqual({
                    kubernetes: minorOf(world.cluster.kubernetesVersion),
                    installedKnative: "1.23",
                    installedIstio: minorOf(VERSIONS.istio),
                    installedElasticsearch: minorOf(VERSIONS.elasticStack),
                });
            });
        }

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
            const managers = (controller.metadata?.managedFields ?? []).map((f) => f.manager ?? "");
            expect(managers.filter((m) => m.startsWith("pulumi"))).toHaveLength(1);
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
            const path = `/apis/elasticsearch.k8s.elastic.co/v1/namespaces/monitoring/elasticsearches/logs`;
            const live = await world.kube<{ spec: Record<string, unknown> }>("GET", path);
            await expect(
                world.kube("PUT", `${path}?dryRun=All`, { ...live, spec: { ...live.spec, version: "8.0.0" } }),
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

        if (environment === "dev") {
            test("going back to Knative 1.22 is refused at preview, from the release the cluster reports", async () => {
                await stack.setConfig("serverless-platform:knative.version", { value: "1.22" }, true);
                await expect(stack.preview()).rejects.toThrow(
                    /Knative 1\.22 cannot replace the installed 1\.23: Knative has no downgrade path \(rule knative-one-minor-at-a-time/,
                );
                await stack.removeConfig("serverless-platform:knative.version", true);
            }, 600_000);

            test("knative.replicas 1 → 2 previews as in-place updates and new budgets, replacing and deleting nothing", async () => {
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
        }

        if (environment === "staging") {
            test("a major Elasticsearch upgrade is refused until the stack states it; then it updates the protected cluster in place", async () => {
                const major = "9.1.0";
                const installed = minorOf(VERSIONS.elasticStack);
                await stack.setConfig("serverless-platform:monitoring.logs.version", { value: major }, true);
                await expect(stack.preview()).rejects.toThrow(
                    `Elasticsearch ${major} is a major upgrade of the installed ${installed}: run the Upgrade Assistant from the last minor of 8.x, then accept this rule for the upgrade's preview (rule elasticsearch-major-upgrade;`,
                );
                await stack.setConfig(
                    "serverless-platform:compatibility.accept[0]",
                    { value: "elasticsearch-major-upgrade" },
                    true,
                );
                const recorder = stepRecorder();
                await stack.preview({ onEvent: recorder.onEvent });
                // ECK rolls the nodes onto the new version; nothing holding data is replaced or deleted.
                expect(recorder.changed().map((step) => `${step.op} ${step.name}`)).toEqual([
                    "update monitoring-logs-elasticsearch",
                    "update monitoring-logs-kibana",
                ]);
                const { deployment } = await stack.exportStack();
                const elasticsearch = (deployment.resources as { urn: string; protect?: boolean }[]).find((r) =>
                    r.urn.endsWith("::monitoring-logs-elasticsearch"),
                );
                expect(elasticsearch?.protect).toBe(true);
                await stack.removeConfig("serverless-platform:compatibility");
                await stack.removeConfig("serverless-platform:monitoring.logs.version", true);
            }, 600_000);
        }

        if (environment === "staging") {
            test("the Prometheus Operator renders the scrape configuration from the platform's monitors, and by Prometheus's own discovery it scrapes Knative's control plane, each revision's queue-proxy with the labels the dashboards query, and istiod", async () => {
                // The operator reconciles after `up` has returned.
                await eventually("the Prometheus Operator writes Prometheus's configuration", async () => {
                    const secret = await world.kube<V1Secret>(
                        "GET",
                        "/api/v1/namespaces/monitoring/secrets/prometheus-prometheus-stack-prometheus",
                    );
                    return secret.data?.["prometheus.yaml.gz"] !== undefined;
                });
                const configFile = await prometheusConfig(world, "monitoring", "prometheus-stack-prometheus");
                const config = parse(readFileSync(configFile, "utf8")) as {
                    scrape_configs: { job_name: string; tls_config?: { cert_file?: string } }[];
                };
                const job = (monitor: string) => `serviceMonitor/monitoring/${monitor}/0`;
                // Knative's pods are scraped over the mesh's mTLS, with the certificates Istio writes for Prometheus.
                for (const monitor of ["knative-serving", "knative-queue-proxy"]) {
                    expect(config.scrape_configs.find((c) => c.job_name === job(monitor))?.tls_config).toMatchObject({
                        cert_file: "/etc/prom-certs/cert-chain.pem",
                    });
                }

                // A revision for the queue-proxy's job: its image pinned by digest (Knative resolves no tag),
                // its container as the namespace's restricted Pod Security admits it.
                const revisionService = "/apis/serving.knative.dev/v1/namespaces/games-web/services";
                await world.kube("POST", revisionService, {
                    apiVersion: "serving.knative.dev/v1",
                    kind: "Service",
                    metadata: { name: "scraped", namespace: "games-web" },
                    spec: {
                        template: {
                            metadata: { annotations: { "autoscaling.knative.dev/min-scale": "1" } },
                            spec: {
                                containers: [
                                    {
                                        image: `registry.example.com/games/scraped@sha256:${"a".repeat(64)}`,
                                        securityContext: {
                                            runAsNonRoot: true,
                                            allowPrivilegeEscalation: false,
                                            capabilities: { drop: ["ALL"] },
                                            seccompProfile: { type: "RuntimeDefault" },
                                        },
                                    },
                                ],
                            },
                        },
                    },
                });
                const targets = discoverTargets(
                    configFile,
                    world.cluster.kubeconfig,
                    join(world.cluster.dir, "prometheus-targets.log"),
                );
                const controlPlane = () => [
                    ...new Set(targets.of(job("knative-serving")).map((t) => t.labels.service)),
                ];
                const queueProxy = () => targets.of(job("knative-queue-proxy"));
                try {
                    await eventually(
                        "Prometheus discovers Knative's control plane, the revision's queue-proxy and istiod",
                        () =>
                            Promise.resolve(
                                controlPlane().length === 4 &&
                                    queueProxy().length > 0 &&
                                    targets.of(job("istiod")).length > 0,
                            ),
                        3,
                    ).catch(() => undefined); // the expectations below say what is missing
                    expect(targets.errors()).toEqual([]);
                    expect(controlPlane().sort()).toEqual(["activator-service", "autoscaler", "controller", "webhook"]);
                    expect(targets.of(job("knative-serving")).map((t) => new URL(t.url).protocol)).not.toContain(
                        "http:",
                    );
                    // The labels the Knative dashboards filter and group by.
                    expect(queueProxy()).toEqual([
                        {
                            url: expect.stringMatching(/^https:\/\/[\d.]+:9091\/metrics$/),
                            labels: expect.objectContaining({
                                namespace: "games-web",
                                kn_service_name: "scraped",
                                kn_configuration_name: "scraped",
                                kn_revision_name: "scraped-00001",
                            }),
                        },
                    ]);
                    expect(targets.of(job("istiod"))[0]?.labels).toMatchObject({ namespace: "istio-system" });
                } finally {
                    targets.stop();
                    await world.kube("DELETE", `${revisionService}/scraped`);
                }
            }, 600_000);

            test("drift: hand edits show in `preview --refresh` as exactly those changes, `up --refresh` restores them, and the app team's own objects stay", async () => {
                const merge = "application/merge-patch+json";
                const autoscaler = "/api/v1/namespaces/knative-serving/configmaps/config-autoscaler";
                const mtls = "/apis/security.istio.io/v1/namespaces/istio-system/peerauthentications/default";
                const policy =
                    "/apis/networking.k8s.io/v1/namespaces/games-web/networkpolicies/allow-same-namespace-and-platform";
                const teamSettings = {
                    apiVersion: "v1",
                    kind: "ConfigMap",
                    metadata: { name: "team-settings", namespace: "games-web" },
                    data: { owner: "games-web" },
                };
                await world.kube("POST", "/api/v1/namespaces/games-web/configmaps", teamSettings);
                await world.kube("PATCH", autoscaler, { data: { "scale-to-zero-grace-period": "45s" } }, merge);
                await world.kube("DELETE", mtls);
                await world.kube("PATCH", policy, { spec: { ingress: [] } }, merge);

                const recorder = stepRecorder();
                await stack.preview({ refresh: true, onEvent: recorder.onEvent });
                const drift = recorder
                    .changed()
                    .filter((step) => step.op !== "refresh")
                    .map((step) => `${step.op} ${step.type} ${step.name}`);
                expect(drift.sort()).toEqual([
                    "create kubernetes:security.istio.io/v1:PeerAuthentication istio-mesh-mtls",
                    "update kubernetes:core/v1:ConfigMapPatch knative-serving-config-autoscaler",
                    "update kubernetes:networking.k8s.io/v1:NetworkPolicy games-web-allow-platform",
                ]);

                const result = await stack.up({ ...engineOutput, refresh: true });
                expect(result.summary.result).toBe("succeeded");
                const restored = await world.kube<V1ConfigMap>("GET", autoscaler);
                expect(restored.data?.["scale-to-zero-grace-period"]).toBe(knative.scaleToZeroGracePeriod);
                const peerAuthentication = await world.kube<{ spec: { mtls: { mode: string } } }>("GET", mtls);
                expect(peerAuthentication.spec.mtls.mode).toBe("STRICT");
                const networkPolicy = await world.kube<{ spec: { ingress?: unknown[] } }>("GET", policy);
                expect(networkPolicy.spec.ingress).toHaveLength(1);
                const team = await world.kube<V1ConfigMap>(
                    "GET",
                    "/api/v1/namespaces/games-web/configmaps/team-settings",
                );
                expect(team.data).toEqual(teamSettings.data);
            }, 900_000);
        }

        if (environment === "prod") {
            test("destroy stops at the protected Elasticsearch: it and what it needs stay, in the cluster and the state", async () => {
                // The engine deletes what does not hold data, then fails on the protected resource.
                await expect(stack.destroy(engineOutput)).rejects.toThrow(
                    /Elasticsearch::monitoring-logs-elasticsearch" cannot be deleted/,
                );
                const elasticsearch = await world.kube<{ spec: { nodeSets: { count: number }[] } }>(
                    "GET",
                    "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/monitoring/elasticsearches/logs",
                );
                expect(elasticsearch.spec.nodeSets[0]?.count).toBe(logs.nodes);
                const operator = await world.kube<V1StatefulSet>(
                    "GET",
                    "/apis/apps/v1/namespaces/elastic-system/statefulsets/elastic-operator",
                );
                expect(operator.metadata?.name).toBe("elastic-operator");
                const { deployment } = await stack.exportStack();
                const urns = (deployment.resources as { urn: string }[]).map((r) => r.urn);
                expect(urns.some((urn) => urn.endsWith("::monitoring-logs-elasticsearch"))).toBe(true);
            }, 600_000);
        }

        if (environment === "dev") {
            test("destroy leaves nothing but the app namespaces, which it lets go of", async () => {
                await stack.destroy(engineOutput);
                const { deployment } = await stack.exportStack();
                expect(deployment.resources ?? []).toEqual([]);
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
                ).items;
                // What upstream keeps on purpose, and nothing else: the CRDs its charts mark to be kept.
                const kept = crds.filter((crd) => crd.metadata?.annotations?.["helm.sh/resource-policy"] === "keep");
                expect(crds.map((crd) => crd.metadata?.name)).toEqual(kept.map((crd) => crd.metadata?.name));
                // Istio's base chart and ECK's mark theirs; the engine says "[retain]" as it lets go of them.
                expect(kept.map((crd) => crd.metadata?.name)).toEqual(
                    expect.arrayContaining([
                        "gateways.networking.istio.io",
                        "elasticsearches.elasticsearch.k8s.elastic.co",
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
        }
    });
}
