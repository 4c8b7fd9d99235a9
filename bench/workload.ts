/**
 * The benchmarks' workload: N copies of one app (a JVM service woken hourly by cron), written
 * with ServerlessService ("component") or by hand as the same Knative Service and PingSource
 * CustomResources, as a team without the component would ("raw").
 */
import * as k8s from "@pulumi/kubernetes";
import { ServerlessService } from "../components/index.ts";
import type { KnativeLimits } from "../components/shared/knative-limits.ts";

export type Variant = "component" | "raw";
export const VARIANTS: readonly Variant[] = ["component", "raw"];
export const NAMESPACE = "games-batch";

const image = "registry.example.com/games/stats:2.3.1";

/** The dev platform's limits (stacks/Pulumi.dev.yaml), which bench:engine deploys onto: a zero initial scale is allowed. */
const DEV_PLATFORM: KnativeLimits = {
    maxScaleLimit: 5,
    allowZeroInitialScale: true,
    containerConcurrencyMaxLimit: 1000,
};

function viaComponent(name: string): void {
    new ServerlessService(name, {
        namespace: NAMESPACE,
        platform: DEV_PLATFORM,
        image,
        runtime: "jvm",
        // Woken by its cron trigger: no pod until then (the dev platform allows a zero initial scale).
        scaling: { maxScale: 3, initialScale: 0 },
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
            namespace: NAMESPACE,
            labels: { ...labels, "networking.knative.dev/visibility": "cluster-local" },
            // Waits, as the component does, until Knative reports the service Ready.
            annotations: { "pulumi.com/waitFor": "condition=Ready" },
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
                        "autoscaling.knative.dev/initial-scale": "0",
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
            metadata: { name: `${name}-cron-0`, namespace: NAMESPACE, labels },
            spec: {
                schedule: "0 * * * *",
                timezone: "Asia/Seoul",
                sink: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name } },
            },
        },
        { dependsOn: [ksvc] },
    );
}

/** Registers `count` services, named svc-0 … svc-N-1, as `variant` writes them. */
export function registerServices(variant: Variant, count: number): void {
    const register = variant === "component" ? viaComponent : byHand;
    for (let i = 0; i < count; i++) register(`svc-${i}`);
}
