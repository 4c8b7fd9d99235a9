/**
 * ServerlessService against Knative Serving's own code, differentially: thousands of argument
 * sets near every field's boundary (fast-check, fixed seed) are rendered by the component and
 * judged by Knative's validation and route code (e2e/knative-judge.ts). Every set the component
 * accepts must be accepted by Knative; every set it refuses that Knative accepts must be refused
 * only by a deliberate, stricter rule of ours, listed below with the reason.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { ServerlessServiceArgs } from "../components/app/args.ts";
import { inspectServerlessService, knativeServiceObject } from "../components/app/render.ts";
import { Traffic } from "../components/app/traffic.ts";
import { judge } from "./knative-judge.ts";

/** Our rules that are stricter than Knative on purpose: the message fragment, and why (each message says so too). */
export const STRICTER_THAN_KNATIVE: readonly { rule: RegExp; why: string }[] = [
    { rule: /image must not use the moving tag "latest"/, why: "a moving tag changes under a running revision" },
    { rule: /image must be pinned to a tag or a digest/, why: "an untagged image means :latest" },
    { rule: /runAsUser must be .*stricter than Knative/, why: "root is never allowed (Pod Security restricted)" },
    {
        rule: /scaling\.maxScale must be .*stricter than Knative/,
        why: "an unbounded service can take the whole cluster",
    },
    { rule: /labels must not use Knative's own label keys/, why: "Knative's keys are set through arguments" },
    { rule: /is not a known argument/, why: "a misspelt key would silently take its default" },
    { rule: /scaling\.initialScale must be ≤ .*stricter than Knative/, why: "Knative caps it silently" },
    { rule: /applies only to the concurrency and rps metrics.*stricter than Knative/, why: "Knative ignores it" },
    { rule: /\(got NaN\)$/, why: "NaN is sent as null, which Knative reads as unset" },
    // Beyond the webhook: Knative passes these on to the Deployment it makes, which the API server refuses.
    { rule: /progressDeadline must be .*Kubernetes refuses/, why: "a Deployment's progress deadline must exceed 0" },
    { rule: /startupProbe\.\w+ must be .*Kubernetes refuses/, why: "probe numbers below 1 are refused or defaulted" },
];

const NAMESPACE = "games-web";

const atMost = (n: number) => "a" + "b".repeat(n - 1);
const names = fc.oneof(
    fc.constantFrom("api", "a", "spring-api", "api-v", "x1"),
    fc.integer({ min: 50, max: 64 }).map(atMost),
    fc.constantFrom("Api", "-api", "api-", "api_1", "1api", ""),
);
const images = fc.constantFrom(
    "registry.example.com/games/api:1.0.0",
    "registry.example.com:5000/games/api:2.3.1",
    "ghcr.io/acme/api@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904f1b9d6f7c1b1d1d5e3c3a9f0",
    "api:1.0",
    ":1.0",
    "registry.example.com/App:1.0",
    "registry.example.com/äpp:1.0",
    `${"h".repeat(300)}.example.com/api:1.0`,
    "registry.example.com/games/api",
    "registry.example.com/games/api:latest",
    "registry.example.com/games/api:-bad",
);
const wholeNumbers = fc.constantFrom(0, 1, 2, 3, 10, 100, 2147483647, 2147483648, 1e21, -1, 0.5, Number.NaN);
const durations = fc.constantFrom(
    "0s",
    "1s",
    "6s",
    "2s",
    "30s",
    "90s",
    "5m",
    "1h",
    "61m",
    "0.9999999999s",
    "59.9999999999s",
    "999999999.6ns",
    "1500ms",
    "2562048h",
    "",
    "1d",
);
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 2 });

const scaling = fc.record(
    {
        minScale: optional(wholeNumbers),
        maxScale: optional(wholeNumbers),
        initialScale: optional(wholeNumbers),
        target: optional(wholeNumbers),
        metric: optional(fc.constantFrom("concurrency", "rps", "cpu", "memory")),
        containerConcurrency: optional(wholeNumbers),
        scaleDownDelay: optional(durations),
        window: optional(durations),
        targetUtilizationPercentage: optional(fc.constantFrom(0, 1, 50, 100, 101)),
        activationScale: optional(wholeNumbers),
    },
    { requiredKeys: [] },
);

const labels = fc.constantFrom<Record<string, string> | undefined>(
    undefined,
    { team: "games" },
    { "example.com/team": "games" },
    { "bad key": "x" },
    { "-v": "x" },
    { ["k".repeat(64)]: "x" },
    { "a/b/c": "x" },
    { "/k": "x" },
    { "Example.com/k": "x" },
    { k: "v".repeat(64) },
    { k: "-v" },
);

const argumentSets = fc
    .record({
        name: names,
        image: images,
        runtime: optional(fc.constantFrom("jvm", "native", "generic")),
        scaling: optional(scaling),
        canary: optional(
            fc.record({
                stable: fc.constantFrom("self-v1", "self-v2", "other-v1", "x"),
                percent: fc.constantFrom(0, 1, 10, 50, 100, 101),
            }),
        ),
        traffic: optional(fc.constantFrom("latest", "empty", "percent-only")),
        revisionName: optional(fc.constantFrom("self-v2", "", "other-v2", "self-v2-x")),
        timeoutSeconds: optional(fc.constantFrom(0, 1, 300, 600, 601, 2147483648)),
        rolloutDuration: optional(durations),
        progressDeadline: optional(durations),
        healthPath: optional(fc.constantFrom("", "/health", "health", "/actuator/health/readiness")),
        serviceAccountName: optional(fc.constantFrom("default", "a.b", "x".repeat(64), "y".repeat(253), "bad_name")),
        runAsUser: optional(fc.constantFrom(0, 1, 1000, 2147483647, 2147483648)),
        startupProbe: optional(
            fc.record({
                periodSeconds: wholeNumbers,
                failureThreshold: wholeNumbers,
                timeoutSeconds: wholeNumbers,
            }),
        ),
        visibility: optional(fc.constantFrom("public", "cluster-local")),
        labels,
    })
    .map(({ name, canary, traffic, revisionName, ...rest }) => {
        const self = (suffix: string) => suffix.replace(/^self-/, `${name}-`);
        const args: Record<string, unknown> = { ...rest, namespace: NAMESPACE };
        if (revisionName !== undefined) args.revisionName = self(revisionName);
        if (canary !== undefined) args.traffic = Traffic.canary(self(canary.stable), canary.percent);
        else if (traffic === "latest") args.traffic = Traffic.latest();
        else if (traffic === "empty") args.traffic = [];
        else if (traffic === "percent-only") args.traffic = [{ percent: 100 }];
        const defined = Object.fromEntries(Object.entries(args).filter(([, value]) => value !== undefined));
        return { name, args: defined as unknown as ServerlessServiceArgs };
    });

const SAMPLES = 6000;

describe("ServerlessService agrees with Knative Serving's own validation", () => {
    test(`${SAMPLES} argument sets near every boundary: nothing we accept is refused, nothing refused without a reason`, async () => {
        const cases = fc.sample(argumentSets, { numRuns: SAMPLES, seed: 20261126 });
        const ours = new Map<string, { name: string; args: ServerlessServiceArgs; problems: readonly string[] }>();
        const objects = new Map<string, unknown>();
        cases.forEach(({ name, args }, i) => {
            const { service, problems } = inspectServerlessService(name, args);
            ours.set(String(i), { name, args, problems: problems.messages });
            objects.set(String(i), knativeServiceObject(service));
        });
        const verdicts = await judge(objects);

        const acceptedButRefused: string[] = [];
        const refusedWithoutReason: string[] = [];
        for (const [id, { name, args, problems }] of ours) {
            const knative = verdicts.get(id);
            if (knative === undefined) throw new Error(`no verdict for case ${id}`);
            const shown = `${name} ${JSON.stringify(args)}`;
            if (problems.length === 0 && !knative.accepted) {
                acceptedButRefused.push(`${shown}\n    Knative: ${knative.errors.join(" | ")}`);
            }
            if (problems.length > 0 && knative.accepted) {
                const unexplained = problems.filter((p) => !STRICTER_THAN_KNATIVE.some(({ rule }) => rule.test(p)));
                if (unexplained.length > 0) refusedWithoutReason.push(`${shown}\n    ours: ${unexplained.join(" | ")}`);
            }
        }
        expect(
            acceptedButRefused.slice(0, 20),
            `${acceptedButRefused.length} accepted by us, refused by Knative`,
        ).toEqual([]);
        expect(refusedWithoutReason.slice(0, 400), `${refusedWithoutReason.length} refused by us only`).toEqual([]);
    });
});
