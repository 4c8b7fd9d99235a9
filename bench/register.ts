/**
 * One benchmark run, in a fresh process: registers N services under the
 * Pulumi SDK's mocks and prints {ms, heapMB} as JSON.
 *   node bench/register.ts <component|raw> <N>
 * "component" uses ServerlessService; "raw" writes the same Knative Service
 * and PingSource by hand as CustomResources, as a team without the component would.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServerlessService } from "../components/index.ts";

const [variant, countText] = process.argv.slice(2);
const count = Number(countText);
if ((variant !== "component" && variant !== "raw") || !Number.isInteger(count) || count < 1) {
    console.error("usage: node bench/register.ts <component|raw> <N>");
    process.exit(2);
}

const image = "registry.example.com/games/stats:2.3.1";

function viaComponent(name: string): void {
    new ServerlessService(name, {
        namespace: "games-batch",
        image,
        runtime: "jvm",
        scaling: { maxScale: 3 },
        triggers: { cron: [{ schedule: "0 * * * *", timezone: "Asia/Seoul" }] },
    });
}

function byHand(name: string): void {
    const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "pulumi" };
    const ksvc = new k8s.apiextensions.CustomResource(name, {
        apiVersion: "serving.knative.dev/v1",
        kind: "Service",
        metadata: {
            name,
            namespace: "games-batch",
            labels: { ...labels, "networking.knative.dev/visibility": "cluster-local" },
        },
        spec: {
            template: {
                metadata: {
                    labels,
                    annotations: {
                        "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
                        "autoscaling.knative.dev/metric": "concurrency",
                        "autoscaling.knative.dev/min-scale": "0",
                        "autoscaling.knative.dev/max-scale": "3",
                        "autoscaling.knative.dev/initial-scale": "1",
                        "autoscaling.knative.dev/scale-down-delay": "5m",
                        "serving.knative.dev/progress-deadline": "10m",
                    },
                },
                spec: {
                    containers: [
                        {
                            name: "app",
                            image,
                            ports: [{ containerPort: 8080 }],
                            env: [
                                {
                                    name: "JAVA_TOOL_OPTIONS",
                                    value: "-XX:MaxRAMPercentage=75.0 -XX:InitialRAMPercentage=50.0 -XX:+ExitOnOutOfMemoryError",
                                },
                            ],
                            resources: { requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } },
                            securityContext: {
                                runAsNonRoot: true,
                                allowPrivilegeEscalation: false,
                                readOnlyRootFilesystem: true,
                                capabilities: { drop: ["ALL"] },
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            startupProbe: {
                                tcpSocket: { port: 8080 },
                                periodSeconds: 2,
                                failureThreshold: 90,
                                timeoutSeconds: 2,
                            },
                            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                        },
                    ],
                    containerConcurrency: 0,
                    timeoutSeconds: 300,
                    enableServiceLinks: false,
                    automountServiceAccountToken: false,
                    volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
                },
            },
            traffic: [{ latestRevision: true, percent: 100 }],
        },
    });
    new k8s.apiextensions.CustomResource(
        `${name}-cron-0`,
        {
            apiVersion: "sources.knative.dev/v1",
            kind: "PingSource",
            metadata: { name: `${name}-cron-0`, namespace: "games-batch", labels },
            spec: {
                schedule: "0 * * * *",
                timezone: "Asia/Seoul",
                sink: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name } },
            },
        },
        { dependsOn: [ksvc] },
    );
}

await pulumi.runtime.setMocks(
    {
        newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs as Record<string, unknown> }),
        call: (args) => args.inputs as Record<string, unknown>,
    },
    "bench",
    "bench",
    false,
);
const register = variant === "component" ? viaComponent : byHand;
// Retained heap, not garbage: the parent runs this with --expose-gc.
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
collect();
const heapBefore = process.memoryUsage().heapUsed;
const start = performance.now();
await pulumi.runtime.runInPulumiStack(async () => {
    for (let i = 0; i < count; i++) {
        register(`svc-${i}`);
    }
    return Promise.resolve(undefined);
});
// The hook the SDK's own disconnect waits on: resolves once every registration reached the mocks.
await (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs();
const ms = performance.now() - start;
collect();
const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
console.log(JSON.stringify({ ms, heapMB }));
