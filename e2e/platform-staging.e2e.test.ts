/**
 * The staging platform (see platform.ts for what every environment proves): the major Elasticsearch
 * upgrade, Prometheus's scrape configuration as the Prometheus Operator renders it, and drift.
 */
import { expect, test } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { V1ConfigMap, V1Secret } from "@kubernetes/client-node";
import { minorOf } from "../components/platform/compatibility.ts";
import { VERSIONS } from "../components/platform/versions.ts";
import { explainFailure } from "../scripts/failures.ts";
import { engineOutput } from "../toolchain/engine.ts";
import { discoverTargets, prometheusConfig } from "./prometheus-targets.ts";
import { type PlatformUnderTest, describePlatform, stackSection } from "./platform.ts";
import { eventually, stepRecorder } from "./world.ts";
import { clusterLostAdvice, upLosingTheCluster } from "./faults.ts";

const knative = stackSection("staging", "knative");

/**
 * The first `up` loses its cluster (the API server killed, as a crash or a lost machine ends it) as it creates
 * its first namespace: nothing of the platform's namespaces can exist yet, so no workload stored before the loss
 * leaves the provider waiting for the cluster. The run fails naming the cluster; once the cluster answers again,
 * the next run (the first `up`'s proofs, with --refresh as advised) finishes it.
 */
function clusterLostAtFirstNamespace(platform: PlatformUnderTest): void {
    test("the first up loses its cluster as it creates its first namespace: the run fails naming the cluster, and says how to resume", async () => {
        const { world, stack } = platform;
        const failure = await upLosingTheCluster(world, stack, { group: "", resource: "namespaces" });
        expect(explainFailure(failure, {}, "staging")).toBe(clusterLostAdvice(world, "staging"));
    }, 900_000);
}

describePlatform("staging", {
    interruptFirstUp: clusterLostAtFirstNamespace,
    own: (platform) => {
        test("a major Elasticsearch upgrade is refused until the stack states it; then it updates the protected cluster in place", async () => {
            const { stack } = platform;
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
            // ECK rolls the nodes onto the new version; nothing holding data is replaced or deleted, and nothing
            // else changes (the CrdSets' host is given the cluster's keys only, not the whole stack config).
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

        test("the Prometheus Operator renders the scrape configuration from the platform's monitors, and by Prometheus's own discovery it scrapes Knative's control plane, each revision's queue-proxy with the labels the dashboards query, and istiod", async () => {
            const { world } = platform;
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
            const controlPlane = () => [...new Set(targets.of(job("knative-serving")).map((t) => t.labels.service))];
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
                expect(targets.of(job("knative-serving")).map((t) => new URL(t.url).protocol)).not.toContain("http:");
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

        test("under PERMISSIVE mTLS Knative's namespaces leave the mesh, and Prometheus scrapes its control plane over plain HTTP; back to STRICT, over the mesh's mTLS again", async () => {
            const { world, stack } = platform;
            const job = "serviceMonitor/monitoring/knative-serving/0";
            /** Knative's control-plane targets Prometheus's own discovery finds, once the operator's configuration has `wanted` TLS. */
            const scrapedOver = async (wantsTls: boolean): Promise<string[]> => {
                let configFile = "";
                await eventually("the Prometheus Operator writes the scrape configuration of the mode", async () => {
                    configFile = await prometheusConfig(world, "monitoring", "prometheus-stack-prometheus");
                    const config = parse(readFileSync(configFile, "utf8")) as {
                        scrape_configs: { job_name: string; tls_config?: object }[];
                    };
                    const tls = config.scrape_configs.find((c) => c.job_name === job)?.tls_config;
                    return (tls !== undefined) === wantsTls;
                });
                const targets = discoverTargets(
                    configFile,
                    world.cluster.kubeconfig,
                    join(world.cluster.dir, "prometheus-targets-mtls.log"),
                );
                try {
                    await eventually("Prometheus discovers Knative's control plane", () =>
                        Promise.resolve(new Set(targets.of(job).map((t) => t.labels.service)).size === 4),
                    );
                    expect(targets.errors()).toEqual([]);
                    return [...new Set(targets.of(job).map((t) => new URL(t.url).protocol))];
                } finally {
                    targets.stop();
                }
            };
            // The stack file leaves the mode at its default, STRICT.
            await stack.setConfig("serverless-platform:istio.mtls", { value: "PERMISSIVE" }, true);
            try {
                await stack.up(engineOutput);
                const serving = await world.kube<{ metadata: { labels?: Record<string, string> } }>(
                    "GET",
                    "/api/v1/namespaces/knative-serving",
                );
                expect(serving.metadata.labels?.["istio-injection"]).toBeUndefined();
                expect(await scrapedOver(false)).toEqual(["http:"]);
            } finally {
                await stack.removeConfig("serverless-platform:istio.mtls", true);
                await stack.up(engineOutput);
            }
            expect(await scrapedOver(true)).toEqual(["https:"]);
        }, 1_200_000);

        test("drift: hand edits show in `preview --refresh` as exactly those changes, `up --refresh` restores them, and the app team's own objects stay", async () => {
            const { world, stack } = platform;
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
            const team = await world.kube<V1ConfigMap>("GET", "/api/v1/namespaces/games-web/configmaps/team-settings");
            expect(team.data).toEqual(teamSettings.data);
        }, 1_800_000);
    },
});
