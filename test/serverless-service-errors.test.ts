import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { InvalidArgumentsError, ServerlessService, type ServerlessServiceArgs } from "../components/index.ts";
import { Problems } from "../components/shared/problems.ts";
import { runProgram } from "./harness.ts";

const valid: ServerlessServiceArgs = { namespace: "games-web", image: "registry.example.com/api:1.0.0" };
const S = 'ServerlessService "api"';

/** Each bad input and the exact message it must produce. */
const badInputs: [string, Partial<ServerlessServiceArgs>, string][] = [
    [
        "an untagged image",
        { image: "registry.example.com/api" },
        `${S}: image must be pinned to a tag or a digest ("repo:1.4.2" or "repo@sha256:…"); untagged means the moving "latest" (got "registry.example.com/api")`,
    ],
    [
        "the latest tag",
        { image: "registry.example.com/api:latest" },
        `${S}: image must not use the moving tag "latest"; pin a version tag or a digest (got "registry.example.com/api:latest")`,
    ],
    [
        "a short digest",
        { image: "registry.example.com/api@sha256:abc" },
        `${S}: image is not an image reference Knative can parse (the digest after '@' must be sha256: and 64 lowercase hex characters) (got "registry.example.com/api@sha256:abc")`,
    ],
    [
        "a label key the API server refuses",
        { labels: { "bad key": "x" } },
        `${S}: labels["bad key"] is not a label key Kubernetes accepts: it must have a name of 1 to 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit (got "bad key")`,
    ],
    [
        "a label value the API server refuses",
        { labels: { team: "-web" } },
        `${S}: labels["team"] is not a label value Kubernetes accepts: it must be at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit (got "-web")`,
    ],
    [
        "a service account name that is not a DNS subdomain",
        { serviceAccountName: "bad_name" },
        `${S}: serviceAccountName must be a service account name (a DNS-1123 subdomain of at most 253 characters) (got "bad_name")`,
    ],
    [
        "a number past 32 bits",
        { scaling: { maxScale: 2147483648 } },
        `${S}: scaling.maxScale must be a whole number from 1 to 2147483647 (stricter than Knative, where 0 means unbounded: an unbounded service can take the whole cluster) (got 2147483648)`,
    ],
    [
        "a sub-second rollout that Go truncates",
        { rolloutDuration: "999999999.6ns" },
        `${S}: rolloutDuration must be a Go duration in whole seconds, e.g. "10m" (got "999999999.6ns")`,
    ],
    [
        "a negative readiness wait",
        { readyTimeoutSeconds: -1 },
        `${S}: readyTimeoutSeconds must be a whole number of seconds from 0 (do not wait) (got -1)`,
    ],
    [
        "a bad namespace",
        { namespace: "Games_Web" },
        `${S}: namespace must be a Kubernetes namespace name (a DNS-1123 label) (got "Games_Web")`,
    ],
    [
        "a reserved port",
        { port: 8012 },
        `${S}: port must not be one of Knative's reserved ports 8008, 8012, 8013, 8022, 9090, 9091 (got 8012)`,
    ],
    ["a port out of range", { port: 70000 }, `${S}: port must be a whole number from 1 to 65535 (got 70000)`],
    [
        "an unknown runtime",
        { runtime: "python" as never },
        `${S}: runtime must be one of "jvm", "native", "generic" (got "python")`,
    ],
    [
        "min above max",
        { scaling: { minScale: 5, maxScale: 2 } },
        `${S}: scaling.maxScale must be ≥ scaling.minScale (5) (got 2)`,
    ],
    [
        "a misspelt key, at any depth",
        { scaling: { minscale: 3 } } as never,
        `${S}: scaling.minscale is not a known argument; did you mean "minScale"? (known here: minScale, maxScale, initialScale, target, metric, containerConcurrency, scaleDownDelay, window, targetUtilizationPercentage, activationScale, schedule, warmUpOnSchedule) (got 3)`,
    ],
    [
        "an unbounded maxScale",
        { scaling: { maxScale: 0 } },
        `${S}: scaling.maxScale must be a whole number from 1 to 2147483647 (stricter than Knative, where 0 means unbounded: an unbounded service can take the whole cluster) (got 0)`,
    ],
    [
        "a fractional minScale",
        { scaling: { minScale: 1.5 } },
        `${S}: scaling.minScale must be a whole number from 0 to 2147483647 (got 1.5)`,
    ],
    [
        "scale to zero on cpu",
        { scaling: { metric: "cpu", minScale: 0 } },
        `${S}: scaling.minScale must be ≥ 1 with metric "cpu": the HPA cannot scale to zero (got 0)`,
    ],
    [
        "a KPA-only setting on memory",
        { scaling: { metric: "memory", minScale: 1, window: "60s" } },
        `${S}: scaling.window applies only to the concurrency and rps metrics, not "memory" (stricter than Knative, which ignores it) (got "60s")`,
    ],
    [
        "an unknown metric",
        { scaling: { metric: "latency" as never } },
        `${S}: scaling.metric must be one of "concurrency", "rps", "cpu", "memory" (got "latency")`,
    ],
    [
        "initialScale 0 where the platform forbids it",
        { scaling: { initialScale: 0 } },
        `${S}: scaling.initialScale may be 0 only where the platform sets allowZeroInitialScale (Knative's allow-zero-initial-scale) (got 0)`,
    ],
    [
        "containerConcurrency above 1000",
        { scaling: { containerConcurrency: 1001 } },
        `${S}: scaling.containerConcurrency must be a whole number from 0 (no limit) to 1000 (got 1001)`,
    ],
    [
        "a target above the hard limit",
        { scaling: { target: 20, containerConcurrency: 10 } },
        `${S}: scaling.target must be ≤ scaling.containerConcurrency (10); Knative would cap it silently (got 20)`,
    ],
    [
        "a duration without unit",
        { scaling: { scaleDownDelay: "300" } },
        `${S}: scaling.scaleDownDelay must be a Go duration such as "90s", "5m" or "1h30m" (got "300")`,
    ],
    ["a window too short", { scaling: { window: "2s" } }, `${S}: scaling.window must be from 6s to 1h (got "2s")`],
    [
        "a sub-second window",
        { scaling: { window: "6500ms" } },
        `${S}: scaling.window must be whole seconds (Knative allows no finer precision) (got "6500ms")`,
    ],
    [
        "traffic over 100",
        {
            traffic: [
                { latestRevision: true, percent: 60 },
                { revisionName: "api-v1", percent: 50 },
            ],
        },
        `${S}: traffic percents must sum to 100 (got 110)`,
    ],
    [
        "a revision of another service",
        { revisionName: "web-v2" },
        `${S}: revisionName must start with the service name and a dash ("api-") (got "web-v2")`,
    ],
    [
        "a reserved env var",
        { env: { PORT: "9000" } },
        `${S}: env must not set PORT, K_SERVICE, K_CONFIGURATION, K_REVISION: Knative sets them (got "PORT")`,
    ],
    [
        "an env var twice",
        { env: { TOKEN: "x" }, secretEnv: { TOKEN: "y" } },
        `${S}: secretEnv must not repeat a key of env (got "TOKEN")`,
    ],
    [
        "a fieldRef env var",
        { env: { NODE: { fieldRef: { fieldPath: "spec.nodeName" } } } },
        `${S}: env.NODE must not use fieldRef/resourceFieldRef: Knative allows them only with the kubernetes.podspec-fieldref feature (got {"fieldRef":{"fieldPath":"spec.nodeName"}})`,
    ],
    [
        "a bad CPU quantity",
        { resources: { cpu: "half" } },
        `${S}: resources.cpu must be a positive Kubernetes quantity such as "500m", "2" or "512Mi" (got "half")`,
    ],
    [
        "a CPU limit below the request",
        { resources: { cpu: "2", cpuLimit: "1" } },
        `${S}: resources.cpuLimit must be ≥ resources.cpu (2) (got "1")`,
    ],
    [
        "JVM flags on a native image",
        { runtime: "native", jvmOptions: "-Xmx1g" },
        `${S}: jvmOptions applies only to runtime "jvm", not "native" (got "-Xmx1g")`,
    ],
    [
        "an unknown visibility",
        { visibility: "internet" as never },
        `${S}: visibility must be one of "public", "cluster-local" (got "internet")`,
    ],
    [
        "a timeout above the platform's max",
        { timeoutSeconds: 3600 },
        `${S}: timeoutSeconds must be a whole number from 1 to 600 (got 3600)`,
    ],
    [
        "a six-field cron",
        { triggers: { cron: [{ schedule: "0 0 * * * *" }] } },
        `${S}: triggers.cron[0].schedule must have 5 fields (minute hour day-of-month month day-of-week), not 6 (got "0 0 * * * *")`,
    ],
    [
        "an unknown time zone",
        { triggers: { cron: [{ schedule: "@hourly", timezone: "Seoul" }] } },
        `${S}: triggers.cron[0].timezone must be an IANA time zone name such as "Asia/Seoul" or "UTC" (got "Seoul")`,
    ],
    [
        "cron data that is not JSON",
        { triggers: { cron: [{ schedule: "@daily", data: "job=stats" }] } },
        `${S}: triggers.cron[0].data must be a JSON object with contentType "application/json" (got "job=stats")`,
    ],
    [
        "a Kafka source without topics",
        { triggers: { kafka: [{ bootstrapServers: ["kafka:9092"], topics: [] }] } },
        `${S}: triggers.kafka[0].topics must name at least one topic (got [])`,
    ],
    [
        "a Kafka server without port",
        { triggers: { kafka: [{ bootstrapServers: ["kafka"], topics: ["t"] }] } },
        `${S}: triggers.kafka[0].bootstrapServers must be "host:port" entries (got "kafka")`,
    ],
    [
        "an unknown initial offset",
        {
            triggers: {
                kafka: [{ bootstrapServers: ["kafka:9092"], topics: ["t"], initialOffset: "newest" as never }],
            },
        },
        `${S}: triggers.kafka[0].initialOffset must be one of "earliest", "latest" (got "newest")`,
    ],
    [
        "a filter on a bad attribute",
        { triggers: { broker: [{ filter: { "Event-Type": "x" } }] } },
        `${S}: triggers.broker[0].filter keys must be CloudEvent attribute names (lowercase letters and digits) (got "Event-Type")`,
    ],
    [
        "a backoff in ISO form",
        { triggers: { broker: [{ delivery: { backoffDelay: "PT1S" } }] } },
        `${S}: triggers.broker[0].delivery.backoffDelay must be a positive Go duration such as "200ms" or "2s" (got "PT1S")`,
    ],
    [
        "two triggers with one name",
        {
            triggers: {
                cron: [
                    { schedule: "@hourly", name: "tick" },
                    { schedule: "@daily", name: "tick" },
                ],
            },
        },
        `${S}: triggers.cron[1].name must be unique: "api-cron-tick" is used twice (got "tick")`,
    ],
];

describe("ServerlessService refuses bad input before registering anything", () => {
    test.each(badInputs)("%s", async (_, bad, message) => {
        const registered = await runProgram(() => {
            expect(() => new ServerlessService("api", { ...valid, ...bad })).toThrow(
                new InvalidArgumentsError([message]),
            );
        });
        expect(registered.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });

    test("covers at least 15 distinct inputs", () => {
        expect(new Set(badInputs.map(([, , message]) => message)).size).toBeGreaterThanOrEqual(15);
    });

    test("a bad name", () => {
        expect(() => new ServerlessService("Hourly_Stats", valid)).toThrow(
            `ServerlessService "Hourly_Stats": name must be a DNS-1035 label (lowercase letters, digits, '-', starting with a letter, at most 63 characters) (got "Hourly_Stats")`,
        );
    });

    test("every problem is reported at once", () => {
        const error = (() => {
            try {
                new ServerlessService("api", { ...valid, port: 8012, scaling: { maxScale: 0 }, image: "api" });
            } catch (e) {
                return e as InvalidArgumentsError;
            }
            throw new Error("expected an error");
        })();
        expect(error.problems).toHaveLength(3);
        expect(error.message.split("\n")).toEqual(error.problems);
    });

    test("a value known only at deployment is checked when it resolves, with the same message", async () => {
        const problems = new Problems(S);
        const checked = problems.checkWhenKnown(pulumi.output("Games_Web"), (ns, late) => {
            late.add("namespace", "must be a Kubernetes namespace name (a DNS-1123 label)", ns);
        });
        expect(problems.count).toBe(0);
        // The SDK's own handles on an output: its value, and whether it is known and secret. All three
        // reject as the deployment would; awaiting them keeps the rejections from going unhandled.
        const output = checked as unknown as {
            promise(): Promise<string>;
            isKnown: Promise<boolean>;
            isSecret: Promise<boolean>;
        };
        const [value, known, secret] = await Promise.allSettled([output.promise(), output.isKnown, output.isSecret]);
        expect([known.status, secret.status]).toEqual(["rejected", "rejected"]);
        await expect(
            value.status === "rejected" ? Promise.reject(value.reason as Error) : Promise.resolve(),
        ).rejects.toThrow(`${S}: namespace must be a Kubernetes namespace name (a DNS-1123 label) (got "Games_Web")`);
    });
});
