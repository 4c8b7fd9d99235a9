import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { ServerlessService, type ServerlessServiceArgs, Traffic, fromSecret } from "../components/index.ts";
import { KAFKA, KSVC, PING, SECRET, TRIGGER, find, ofType, runProgram, secretValue, valueOf } from "./harness.ts";
import { FIELD_MANAGER_ANNOTATION, oneFieldManager } from "../components/shared/field-manager.ts";
import { validateAgainstUpstream, validateAllKnative } from "./knative-schemas.ts";

const IMAGE = "registry.example.com/stats@sha256:" + "a".repeat(64);

/** The contract example from the issue, with every argument set. */
const hourlyStats: ServerlessServiceArgs = {
    namespace: "games-web",
    image: IMAGE,
    port: 8080,
    env: { SPRING_PROFILES_ACTIVE: "prod", DB_PASSWORD: fromSecret("stats-db", "password") },
    resources: { cpu: "500m", memory: "512Mi" },
    runtime: "jvm",
    scaling: {
        minScale: 0,
        maxScale: 10,
        initialScale: 1,
        target: 50,
        metric: "concurrency",
        containerConcurrency: 0,
        scaleDownDelay: "5m",
        window: "60s",
    },
    traffic: [
        { revisionName: "hourly-stats-v1", percent: 90 },
        { latestRevision: true, percent: 10, tag: "canary" },
    ],
    revisionName: "hourly-stats-v2",
    visibility: "public",
    triggers: {
        cron: [{ schedule: "0 * * * *", timezone: "Asia/Seoul", data: '{"job":"stats"}' }],
        kafka: [{ bootstrapServers: ["kafka:9092"], topics: ["posts"], consumerGroup: "stats" }],
        broker: [
            {
                broker: "default",
                filter: { type: "com.example.post.created" },
                delivery: {
                    retry: 3,
                    backoffPolicy: "exponential",
                    backoffDelay: "200ms",
                    deadLetterSink: { service: "dead-letters" },
                },
            },
        ],
    },
};

async function deploy(name: string, args: ServerlessServiceArgs) {
    let service: ServerlessService | undefined;
    const resources = await runProgram(() => {
        service = new ServerlessService(name, args);
    });
    if (!service) throw new Error("not created");
    // Whatever else a test checks, every Knative object must pass its upstream schema.
    validateAllKnative(resources);
    return { service, resources, ksvc: find(resources, KSVC, name) };
}

describe("ServerlessService with every argument (the issue's contract)", async () => {
    const { service, resources, ksvc } = await deploy("hourly-stats", hourlyStats);
    const template = ksvc.inputs.spec.template;
    const container = template.spec.containers[0];

    test("creates the component and its children, each parented to it", () => {
        expect(resources.map((r) => `${r.type}::${r.name}`).sort()).toEqual([
            `${TRIGGER}::hourly-stats-broker-0`,
            `${KSVC}::hourly-stats`,
            `${KAFKA}::hourly-stats-kafka-0`,
            `${PING}::hourly-stats-cron-0`,
            "pulumi:pulumi:Stack::serverless-platform-dev",
            "serverless-platform:app:ServerlessService::hourly-stats",
        ]);
        for (const child of resources.filter((r) => r.type.startsWith("kubernetes:"))) {
            expect(child.parentName, child.name).toBe("hourly-stats");
        }
    });

    test("every object is applied under the app stack's own field manager, not a random one per object", () => {
        const managers = resources
            .filter((r) => r.type.startsWith("kubernetes:"))
            .map((r) => r.inputs.metadata.annotations?.[FIELD_MANAGER_ANNOTATION]);
        expect(managers).toEqual(Array(4).fill("serverless-platform/dev"));
    });

    test("the Knative Service is named after the component, so revision names and URLs are predictable", () => {
        expect(ksvc.inputs.metadata).toEqual({
            name: "hourly-stats",
            namespace: "games-web",
            labels: { "app.kubernetes.io/name": "hourly-stats", "app.kubernetes.io/managed-by": "pulumi" },
            annotations: {
                // Applied under the app stack's name; a run that takes the Service over owns all of it again.
                [FIELD_MANAGER_ANNOTATION]: "serverless-platform/dev",
                "pulumi.com/patchForce": "true",
                // `pulumi up` waits for Knative's Ready condition, so that the URL is known when it ends.
                "pulumi.com/waitFor": "condition=Ready",
                "pulumi.com/timeoutSeconds": "600",
            },
        });
        expect(template.metadata.name).toBe("hourly-stats-v2");
    });

    test("scaling lands in the revision template's annotations, not the Service's", () => {
        expect(template.metadata.annotations).toEqual({
            "autoscaling.knative.dev/class": "kpa.autoscaling.knative.dev",
            "autoscaling.knative.dev/metric": "concurrency",
            "autoscaling.knative.dev/min-scale": "0",
            "autoscaling.knative.dev/max-scale": "10",
            "autoscaling.knative.dev/initial-scale": "1",
            "autoscaling.knative.dev/target": "50",
            "autoscaling.knative.dev/window": "60s",
            "autoscaling.knative.dev/scale-down-delay": "5m",
            "serving.knative.dev/progress-deadline": "10m",
        });
        expect(template.spec.containerConcurrency).toBe(0);
    });

    test("the container: pinned image, one unnamed port, env sorted with the JVM flags first, overridden resources", () => {
        expect(container.name).toBe("app");
        expect(container.image).toBe(IMAGE);
        expect(container.ports).toEqual([{ containerPort: 8080 }]);
        expect(container.env).toEqual([
            {
                name: "JAVA_TOOL_OPTIONS",
                value: "-XX:MaxRAMPercentage=75.0 -XX:InitialRAMPercentage=50.0 -XX:+ExitOnOutOfMemoryError",
            },
            { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "stats-db", key: "password" } } },
            { name: "SPRING_PROFILES_ACTIVE", value: "prod" },
        ]);
        expect(container.resources).toEqual({
            requests: { cpu: "500m", memory: "512Mi" },
            limits: { cpu: "2", memory: "512Mi" },
        });
        expect(container.startupProbe).toEqual({
            tcpSocket: { port: 8080 },
            periodSeconds: 2,
            failureThreshold: 90,
            timeoutSeconds: 2,
        });
    });

    test("secure by default: restricted profile, no service account token, read-only root with a writable /tmp", () => {
        expect(container.securityContext).toEqual({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        expect(template.spec.automountServiceAccountToken).toBe(false);
        expect(template.spec.enableServiceLinks).toBe(false);
        expect(template.spec.securityContext).toBeUndefined();
        expect(template.spec.initContainers).toBeUndefined();
        expect(container.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
        expect(template.spec.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }]);
    });

    test("traffic is written out in full", () => {
        expect(ksvc.inputs.spec.traffic).toEqual([
            { revisionName: "hourly-stats-v1", latestRevision: false, percent: 90 },
            { latestRevision: true, percent: 10, tag: "canary" },
        ]);
    });

    test("cron → PingSource sinking to the service", () => {
        expect(find(resources, PING, "hourly-stats-cron-0").inputs).toEqual({
            apiVersion: "sources.knative.dev/v1",
            kind: "PingSource",
            metadata: {
                name: "hourly-stats-cron-0",
                namespace: "games-web",
                labels: ksvc.inputs.metadata.labels,
                annotations: { [FIELD_MANAGER_ANNOTATION]: "serverless-platform/dev" },
            },
            spec: {
                schedule: "0 * * * *",
                timezone: "Asia/Seoul",
                contentType: "application/json",
                data: '{"job":"stats"}',
                sink: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "hourly-stats" } },
            },
        });
    });

    test("kafka → KafkaSource with Knative's defaults written out", () => {
        expect(find(resources, KAFKA, "hourly-stats-kafka-0").inputs.spec).toEqual({
            bootstrapServers: ["kafka:9092"],
            topics: ["posts"],
            consumerGroup: "stats",
            initialOffset: "latest",
            ordering: "ordered",
            consumers: 1,
            sink: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "hourly-stats" } },
        });
    });

    test("broker → Trigger with an attribute filter and delivery in Eventing's ISO-8601 form", () => {
        expect(find(resources, TRIGGER, "hourly-stats-broker-0").inputs.spec).toEqual({
            broker: "default",
            filter: { attributes: { type: "com.example.post.created" } },
            subscriber: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "hourly-stats" } },
            delivery: {
                retry: 3,
                backoffPolicy: "exponential",
                backoffDelay: "PT0.2S",
                deadLetterSink: {
                    ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "dead-letters" },
                },
            },
        });
    });

    test("every Knative object passes its upstream schema", () => {
        const knative = resources.filter((r) => r.type.startsWith("kubernetes:") && r.type.includes("knative.dev"));
        expect(knative).toHaveLength(4);
        for (const resource of knative) {
            expect(() => {
                validateAgainstUpstream(resource);
            }, resource.name).not.toThrow();
        }
    });

    test("triggers wait for the service; fields Knative cannot change in place replace the object, deleting first", () => {
        const ping = find(resources, PING, "hourly-stats-cron-0");
        const kafka = find(resources, KAFKA, "hourly-stats-kafka-0");
        const trigger = find(resources, TRIGGER, "hourly-stats-broker-0");
        for (const r of [ping, kafka, trigger]) {
            expect(r.options.dependsOn).toEqual([service.knativeService]);
        }
        expect(ping.options.replaceOnChanges).toBeUndefined();
        expect(kafka.options).toMatchObject({ replaceOnChanges: ["spec.consumerGroup"], deleteBeforeReplace: true });
        expect(trigger.options).toMatchObject({ replaceOnChanges: ["spec.broker"], deleteBeforeReplace: true });
    });

    // url, tagUrls and latestReadyRevisionName are what Knative reports: e2e/app-stacks proves them on the real engine.
    test("outputs: the service's name and namespace", async () => {
        expect(await valueOf(service.serviceName)).toBe("hourly-stats");
        expect(await valueOf(service.namespace)).toBe("games-web");
    });
});

describe("ServerlessService defaults", async () => {
    const { resources, ksvc } = await deploy("api", {
        namespace: "games-web",
        image: "registry.example.com/api:1.0.0",
    });

    test("cluster-local unless exposure is asked for, all traffic to the latest revision", () => {
        expect(ksvc.inputs.metadata.labels["networking.knative.dev/visibility"]).toBe("cluster-local");
        expect(ksvc.inputs.spec.traffic).toEqual([{ latestRevision: true, percent: 100 }]);
    });

    test("generic runtime: modest resources, request timeout written out, no startup probe, no revision name", () => {
        const template = ksvc.inputs.spec.template;
        expect(template.metadata.name).toBeUndefined();
        expect(template.spec.timeoutSeconds).toBe(300);
        expect(template.spec.containers[0].startupProbe).toBeUndefined();
        expect(template.spec.containers[0].env).toBeUndefined(); // Knative drops an empty list
        expect(template.metadata.annotations["serving.knative.dev/progress-deadline"]).toBeUndefined();
    });

    test("creates nothing but the Knative Service", () => {
        expect(ofType(resources, SECRET)).toEqual([]);
        expect(resources.filter((r) => r.type.startsWith("kubernetes:"))).toHaveLength(1);
    });
});

describe("ServerlessService options", () => {
    test("secretEnv goes to a Secret the component owns; the Knative Service only references it", async () => {
        const resources = await runProgram(
            () =>
                new ServerlessService("api", {
                    namespace: "games-web",
                    image: "registry.example.com/api:1.0.0",
                    secretEnv: { DB_PASSWORD: pulumi.secret("hunter2") },
                }),
        );
        const secret = find(resources, SECRET, "api-env");
        expect(secret.inputs.metadata.name).toBe("api-env");
        expect(secretValue(secret.inputs.stringData)).toEqual({ DB_PASSWORD: "hunter2" });
        const ksvc = find(resources, KSVC, "api");
        expect(JSON.stringify(ksvc.inputs)).not.toContain("hunter2");
        expect(ksvc.inputs.spec.template.spec.containers[0].env).toEqual([
            { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "api-env", key: "DB_PASSWORD" } } },
        ]);
        expect(ksvc.options.dependsOn).toHaveLength(1);
    });

    test("a field manager the team's own transform chooses stays", async () => {
        const resources = await runProgram(
            () =>
                new ServerlessService(
                    "api",
                    { namespace: "games-web", image: "registry.example.com/api:1.0.0" },
                    { transforms: [oneFieldManager("games-web-ci")] },
                ),
            { project: "games-api", stack: "prod" },
        );
        expect(find(resources, KSVC, "api").inputs.metadata.annotations[FIELD_MANAGER_ANNOTATION]).toBe("games-web-ci");
    });

    test("h2c for gRPC names the port as Knative expects; HPA metrics keep a pod", async () => {
        const { ksvc } = await deploy("grpc", {
            namespace: "games-web",
            image: "registry.example.com/grpc:2.0.0",
            protocol: "h2c",
            port: 9000,
            scaling: { metric: "cpu", target: 70, maxScale: 4 },
        });
        expect(ksvc.inputs.spec.template.spec.containers[0].ports).toEqual([{ containerPort: 9000, name: "h2c" }]);
        expect(ksvc.inputs.spec.template.metadata.annotations).toMatchObject({
            "autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev",
            "autoscaling.knative.dev/metric": "cpu",
            "autoscaling.knative.dev/min-scale": "1",
        });
    });

    test('what Knative accepts is accepted: a 63-character name, a dotted service account, unset written as "" or 0', async () => {
        const name = `a${"b".repeat(62)}`;
        const { ksvc } = await deploy(name, {
            namespace: "games-web",
            image: "registry.example.com/api:1.0.0",
            serviceAccountName: "reader.games-web",
            timeoutSeconds: 0,
            revisionName: "",
            healthPath: "",
            traffic: [],
        });
        expect(ksvc.inputs.metadata.name).toBe(name);
        expect(ksvc.inputs.spec.template.spec).toMatchObject({
            serviceAccountName: "reader.games-web",
            timeoutSeconds: 300,
        });
        expect(ksvc.inputs.spec.template.metadata.name).toBeUndefined();
        expect(ksvc.inputs.spec.traffic).toEqual([{ latestRevision: true, percent: 100 }]);
    });

    test("opting out of the defaults is explicit and visible", async () => {
        const { ksvc } = await deploy("legacy", {
            namespace: "games-web",
            image: "registry.example.com/legacy:3",
            readOnlyRootFilesystem: false,
            mountServiceAccountToken: true,
            serviceAccountName: "legacy-reader",
            runAsUser: 1000,
            rolloutDuration: "10m",
            labels: { team: "web" },
            readyTimeoutSeconds: 0,
        });
        const spec = ksvc.inputs.spec.template.spec;
        expect(spec.automountServiceAccountToken).toBeUndefined();
        expect(spec.serviceAccountName).toBe("legacy-reader");
        expect(spec.volumes).toBeUndefined();
        expect(spec.containers[0].securityContext).toMatchObject({
            readOnlyRootFilesystem: false,
            runAsUser: 1000,
            runAsNonRoot: true,
        });
        // Not waiting for readiness: no await annotations.
        expect(ksvc.inputs.metadata.annotations).toEqual({
            [FIELD_MANAGER_ANNOTATION]: "serverless-platform/dev",
            "pulumi.com/patchForce": "true",
            "serving.knative.dev/rollout-duration": "10m",
        });
        expect(ksvc.inputs.metadata.labels.team).toBe("web");
    });

    test("values known only at deployment (another stack's outputs) flow through", async () => {
        const { resources, ksvc } = await deploy("consumer", {
            namespace: pulumi.output("games-batch"),
            image: pulumi.output("registry.example.com/consumer:1.2.3"),
            env: { REGION: pulumi.output("kr") },
            triggers: {
                kafka: [{ bootstrapServers: pulumi.output(["kafka-0:9092", "kafka-1:9092"]), topics: ["scores"] }],
            },
        });
        expect(ksvc.inputs.metadata.namespace).toBe("games-batch");
        expect(ksvc.inputs.spec.template.spec.containers[0].image).toBe("registry.example.com/consumer:1.2.3");
        expect(ksvc.inputs.spec.template.spec.containers[0].env).toEqual([{ name: "REGION", value: "kr" }]);
        const kafka = find(resources, KAFKA, "consumer-kafka-0");
        expect(kafka.inputs.spec.bootstrapServers).toEqual(["kafka-0:9092", "kafka-1:9092"]);
        expect(kafka.inputs.spec.consumerGroup).toBe("consumer-kafka-0");
    });
});

describe("stable previews", () => {
    const snapshot = async (args: ServerlessServiceArgs) =>
        (await runProgram(() => new ServerlessService("hourly-stats", args))).map((r) => ({
            type: r.type,
            name: r.name,
            inputs: r.inputs,
        }));

    test("the same arguments register byte-identical inputs", async () => {
        expect(JSON.stringify(await snapshot(hourlyStats))).toBe(JSON.stringify(await snapshot(hourlyStats)));
    });

    test("moving the canary from 10% to 20% changes only the traffic percents", async () => {
        const before = await snapshot({ ...hourlyStats, traffic: Traffic.canary("hourly-stats-v1", 10) });
        const after = await snapshot({ ...hourlyStats, traffic: Traffic.canary("hourly-stats-v1", 20) });
        expect(changedPaths(before, after)).toEqual(
            ["[1].inputs.spec.traffic[0].percent", "[1].inputs.spec.traffic[1].percent"].map((p) =>
                p.replace("[1]", `[${before.findIndex((r) => r.type === KSVC)}]`),
            ),
        );
    });

    test("changing one scaling value changes only its annotation", async () => {
        const before = await snapshot(hourlyStats);
        const after = await snapshot({ ...hourlyStats, scaling: { ...hourlyStats.scaling, maxScale: 20 } });
        const i = before.findIndex((r) => r.type === KSVC);
        expect(changedPaths(before, after)).toEqual([
            `[${i}].inputs.spec.template.metadata.annotations.autoscaling.knative.dev/max-scale`,
        ]);
    });
});

/** The JSON paths whose values differ between two trees. */
function changedPaths(a: unknown, b: unknown, path = ""): string[] {
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
        return Object.is(a, b) ? [] : [path];
    }
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((key) =>
        changedPaths(
            (a as Record<string, unknown>)[key],
            (b as Record<string, unknown>)[key],
            Array.isArray(a) ? `${path}[${key}]` : `${path}.${key}`,
        ),
    );
}
