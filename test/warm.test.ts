import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { InvalidArgumentsError, ServerlessService, type ServerlessServiceArgs, Warm } from "../components/index.ts";
import { type KubeClient, reconcile } from "../components/shared/warm/scheduler.ts";
import { SCHEDULER_RULES } from "../components/platform/warm-scheduler.ts";
import {
    MANAGED_ANNOTATION,
    SCHEDULE_ANNOTATION,
    type WarmSchedule,
    type WarmWindow,
    desiredMinScale,
    isOpen,
    revisionsToPatch,
    routedRevisions,
} from "../components/shared/warm/windows.ts";
import { KSVC, find, ofType, runProgram } from "./harness.ts";
import { platformUnderTest, stackConfig } from "./stacks.ts";

const evening = Warm.between("18:00", "02:00", { timezone: "Asia/Seoul", minScale: 3 });
const at = (iso: string) => new Date(iso);

describe("which warm window is open, by the local clock", () => {
    test.each([
        ["2026-11-26T08:59:00Z", false], // 17:59 in Seoul
        ["2026-11-26T09:00:00Z", true], //  18:00: opens
        ["2026-11-26T16:59:00Z", true], //  01:59 the next day
        ["2026-11-26T17:00:00Z", false], // 02:00: closed
        ["2026-11-26T03:00:00Z", false], // noon
    ])("Seoul 18:00–02:00 at %s: %s", (instant, open) => {
        expect(isOpen(evening, at(instant))).toBe(open);
    });

    test("a window past midnight belongs to the day it starts on", () => {
        const friday = Warm.between("20:00", "03:00", { timezone: "UTC", minScale: 2, days: ["FRI"] });
        expect(isOpen(friday, at("2026-11-27T21:00:00Z"))).toBe(true); // Friday 21:00
        expect(isOpen(friday, at("2026-11-28T02:30:00Z"))).toBe(true); // Saturday 02:30, Friday's window
        expect(isOpen(friday, at("2026-11-28T21:00:00Z"))).toBe(false); // Saturday evening
        expect(isOpen(friday, at("2026-11-26T21:00:00Z"))).toBe(false); // Thursday evening
    });

    test("across daylight saving changes the wall clock decides", () => {
        const morning = Warm.between("07:00", "09:00", { timezone: "America/New_York", minScale: 2 });
        // 07:30 local: EST (UTC-5) before 2026-03-08, EDT (UTC-4) after.
        expect(isOpen(morning, at("2026-03-06T12:30:00Z"))).toBe(true);
        expect(isOpen(morning, at("2026-03-09T11:30:00Z"))).toBe(true);
        expect(isOpen(morning, at("2026-03-09T12:30:00Z"))).toBe(true); // 08:30 EDT
        expect(isOpen(morning, at("2026-03-09T13:30:00Z"))).toBe(false); // 09:30 EDT
        // The skipped hour (02:00–03:00 on 2026-03-08) is simply never seen: a window through it is open around it.
        const night = Warm.between("01:30", "03:30", { timezone: "America/New_York", minScale: 2 });
        expect(isOpen(night, at("2026-03-08T06:45:00Z"))).toBe(true); // 01:45 EST
        expect(isOpen(night, at("2026-03-08T07:15:00Z"))).toBe(true); // 03:15 EDT
    });

    const instant = fc.date({
        min: new Date("2020-01-01T00:00:00Z"),
        max: new Date("2030-12-31T23:59:59Z"),
        noInvalidDate: true,
    });
    const clock = fc
        .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([h, m]) => `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`);
    const zone = fc.constantFrom("UTC", "Asia/Seoul", "Europe/Berlin", "America/New_York", "Australia/Adelaide");

    /** Local minutes by a second route through Intl (toLocaleTimeString), as an oracle. */
    const minutesIn = (when: Date, timezone: string) => {
        const [h, m] = when
            .toLocaleTimeString("en-GB", { timeZone: timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
            .split(":");
        return Number(h) * 60 + Number(m);
    };
    const toMinutes = (clockText: string) => Number(clockText.slice(0, 2)) * 60 + Number(clockText.slice(3));

    test("an every-day window is open exactly while the local clock is inside it, past midnight or not", () => {
        fc.assert(
            fc.property(instant, clock, clock, zone, (when, from, until, timezone) => {
                fc.pre(from !== until);
                const m = minutesIn(when, timezone);
                const [f, u] = [toMinutes(from), toMinutes(until)];
                const expected = f < u ? m >= f && m < u : m >= f || m < u;
                expect(isOpen(Warm.between(from, until, { timezone, minScale: 1 }), when)).toBe(expected);
            }),
        );
    });

    test("the min-scale that applies is the highest of the open windows, or the base", () => {
        fc.assert(
            fc.property(
                instant,
                fc.array(fc.tuple(clock, clock, zone, fc.integer({ min: 1, max: 9 })), { maxLength: 4 }),
                fc.integer({ min: 0, max: 1 }),
                (when, raw, base) => {
                    const windows: WarmWindow[] = raw
                        .filter(([f, u]) => f !== u)
                        .map(([from, until, timezone, minScale]) => ({
                            from,
                            until,
                            timezone,
                            minScale: minScale + base,
                        }));
                    const schedule: WarmSchedule = { baseMinScale: base, windows, warmUp: false };
                    const open = windows.filter((w) => isOpen(w, when)).map((w) => w.minScale);
                    expect(desiredMinScale(schedule, when)).toBe(Math.max(base, ...open));
                },
            ),
        );
    });
});

describe("which revisions the scheduler patches", () => {
    test("only the ones taking traffic, and only when their min-scale differs", () => {
        const routed = routedRevisions([
            { revisionName: "api-v1", percent: 90 },
            { revisionName: "api-v2", percent: 10 },
            { revisionName: "api-v0", percent: 0 },
        ]);
        expect(routed).toEqual(["api-v1", "api-v2"]);
        expect(
            revisionsToPatch(
                routed,
                [
                    { name: "api-v0", minScale: undefined },
                    { name: "api-v1", minScale: "3" },
                    { name: "api-v2", minScale: "0" },
                ],
                3,
            ),
        ).toEqual(["api-v2"]);
    });
});

/** An in-memory API server holding one Knative Service and its revisions. */
function fakeCluster(schedule: WarmSchedule | undefined, templateMinScale?: string) {
    const revisions: Record<string, Record<string, string>> = {
        "api-v1": { "autoscaling.knative.dev/min-scale": "0" },
        "api-v0": {},
    };
    const patches: string[] = [];
    const client: KubeClient = {
        get: (path) => {
            if (path.endsWith("/services")) {
                return Promise.resolve({
                    items: [
                        {
                            metadata: {
                                name: "api",
                                annotations: schedule ? { [SCHEDULE_ANNOTATION]: JSON.stringify(schedule) } : {},
                            },
                            spec: {
                                template: {
                                    metadata: {
                                        annotations:
                                            templateMinScale === undefined
                                                ? {}
                                                : { "autoscaling.knative.dev/min-scale": templateMinScale },
                                    },
                                },
                            },
                            status: {
                                address: { url: "http://api.games-web.svc.cluster.local" },
                                traffic: [{ revisionName: "api-v1", percent: 100 }],
                            },
                        },
                        { metadata: { name: "unscheduled" }, status: {} },
                    ],
                });
            }
            expect(path).toContain("labelSelector=serving.knative.dev%2Fservice%3D");
            if (!path.endsWith("%3Dapi")) return Promise.resolve({ items: [] });
            return Promise.resolve({
                items: Object.entries(revisions).map(([name, annotations]) => ({ metadata: { name, annotations } })),
            });
        },
        mergePatch: (path, body) => {
            const name = path.slice(path.lastIndexOf("/") + 1);
            const annotations = (body as { metadata: { annotations: Record<string, string | null> } }).metadata
                .annotations;
            // A merge patch: null removes a key.
            revisions[name] = Object.fromEntries(
                Object.entries({ ...revisions[name], ...annotations }).filter(
                    (entry): entry is [string, string] => entry[1] !== null,
                ),
            );
            patches.push(`${name}=${String(annotations["autoscaling.knative.dev/min-scale"])}`);
            return Promise.resolve({});
        },
    };
    return { client, revisions, patches };
}

describe("the scheduler's pass (the code the cluster runs)", () => {
    const schedule: WarmSchedule = { baseMinScale: 0, windows: [evening], warmUp: true };

    test("inside the window: the routed revision gets the window's min-scale, and one warm-up request", async () => {
        const cluster = fakeCluster(schedule);
        const warmed: string[] = [];
        const report = await reconcile(cluster.client, "games-web", at("2026-11-26T10:00:00Z"), (url) => {
            warmed.push(url);
            return Promise.resolve();
        });
        expect(cluster.patches).toEqual(["api-v1=3"]);
        expect(warmed).toEqual(["http://api.games-web.svc.cluster.local"]);
        expect(report.errors).toEqual([]);
        // A second pass changes nothing.
        const again = await reconcile(cluster.client, "games-web", at("2026-11-26T10:01:00Z"), () => Promise.resolve());
        expect(again.patched).toEqual([]);
    });

    test("outside it: back to the template's min-scale; the revision without traffic is never touched", async () => {
        const cluster = fakeCluster(schedule);
        cluster.revisions["api-v1"] = { "autoscaling.knative.dev/min-scale": "3" };
        await reconcile(cluster.client, "games-web", at("2026-11-26T03:00:00Z"), () => Promise.resolve());
        expect(cluster.patches).toEqual(["api-v1=0"]);
        expect(cluster.revisions["api-v0"]).toEqual({});
    });

    test("a service without a schedule is left alone", async () => {
        const cluster = fakeCluster(undefined);
        await reconcile(cluster.client, "games-web", at("2026-11-26T10:00:00Z"), () => Promise.resolve());
        expect(cluster.patches).toEqual([]);
    });

    test("inside the window it marks what it changed; once the schedule is gone it writes the template's own min-scale back", async () => {
        const cluster = fakeCluster(schedule);
        await reconcile(cluster.client, "games-web", at("2026-11-26T10:00:00Z"), () => Promise.resolve());
        expect(cluster.revisions["api-v1"]).toEqual({
            "autoscaling.knative.dev/min-scale": "3",
            [MANAGED_ANNOTATION]: "true",
        });
        const removed = fakeCluster(undefined, "1");
        removed.revisions["api-v1"] = { ...cluster.revisions["api-v1"] };
        await reconcile(removed.client, "games-web", at("2026-11-26T10:00:00Z"), () => Promise.resolve());
        expect(removed.patches).toEqual(["api-v1=1"]);
        expect(removed.revisions["api-v1"]).toEqual({ "autoscaling.knative.dev/min-scale": "1" });
    });
});

describe("ServerlessService with a warm schedule", () => {
    const args: ServerlessServiceArgs = {
        namespace: "games-web",
        image: "registry.example.com/api:1.0.0",
        scaling: { minScale: 0, maxScale: 5, schedule: [evening] },
    };

    test("carries its schedule on the Knative Service; the revision template keeps the base min-scale", async () => {
        const ksvc = find(await runProgram(() => new ServerlessService("api", args)), KSVC, "api");
        expect(JSON.parse(ksvc.inputs.metadata.annotations[SCHEDULE_ANNOTATION])).toEqual({
            baseMinScale: 0,
            windows: [{ from: "18:00", until: "02:00", timezone: "Asia/Seoul", minScale: 3 }],
            warmUp: true,
        });
        expect(ksvc.inputs.spec.template.metadata.annotations["autoscaling.knative.dev/min-scale"]).toBe("0");
    });

    const S = 'ServerlessService "api"';
    test.each<[string, WarmWindow, string]>([
        [
            "a time that is not HH:MM",
            { ...evening, from: "6pm" },
            `${S}: scaling.schedule[0].from must be a 24-hour time "HH:MM" (got "6pm")`,
        ],
        [
            "an hour past 23",
            { ...evening, until: "24:00" },
            `${S}: scaling.schedule[0].until must be a 24-hour time "HH:MM" (got "24:00")`,
        ],
        [
            "a window of no time",
            { ...evening, until: "18:00" },
            `${S}: scaling.schedule[0].until must differ from from (a window of no time) (got "18:00")`,
        ],
        [
            "an unknown time zone",
            { ...evening, timezone: "KST" },
            `${S}: scaling.schedule[0].timezone must be an IANA time zone name such as "Asia/Seoul" or "UTC" (got "KST")`,
        ],
        [
            "min-scale above max-scale",
            { ...evening, minScale: 9 },
            `${S}: scaling.schedule[0].minScale must be a whole number above scaling.minScale (0) and at most scaling.maxScale (5) (got 9)`,
        ],
        [
            "min-scale not above the base",
            { ...evening, minScale: 0 },
            `${S}: scaling.schedule[0].minScale must be a whole number above scaling.minScale (0) and at most scaling.maxScale (5) (got 0)`,
        ],
        [
            "an unknown day",
            { ...evening, days: ["FRIDAY" as never] },
            `${S}: scaling.schedule[0].days must be among SUN, MON, TUE, WED, THU, FRI, SAT (got "FRIDAY")`,
        ],
    ])("refuses %s", (_, window, message) => {
        expect(
            () => new ServerlessService("api", { ...args, scaling: { ...args.scaling, schedule: [window] } }),
        ).toThrow(new InvalidArgumentsError([message]));
    });

    test("refuses a schedule on an HPA metric", () => {
        expect(
            () =>
                new ServerlessService("api", { ...args, scaling: { metric: "cpu", maxScale: 5, schedule: [evening] } }),
        ).toThrow(
            `${S}: scaling.schedule needs the concurrency or rps metric: the HPA does not read min-scale changes of a live revision (got 1)`,
        );
    });
});

describe("the platform runs one scheduler per app namespace, with least privilege", async () => {
    const resources = await runProgram(platformUnderTest, { config: stackConfig("dev") });

    test("its Role can read services and read and patch revisions, nothing else", () => {
        expect(SCHEDULER_RULES).toEqual([
            { apiGroups: ["serving.knative.dev"], resources: ["services"], verbs: ["get", "list", "watch"] },
            { apiGroups: ["serving.knative.dev"], resources: ["revisions"], verbs: ["get", "list", "watch", "patch"] },
        ]);
        const roles = ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:Role").filter((r) =>
            r.name.endsWith("-warm-role"),
        );
        expect(roles.map((r) => r.inputs.metadata.namespace)).toEqual(["games-web", "games-batch"]);
        for (const role of roles) expect(role.inputs.rules).toEqual(SCHEDULER_RULES);
    });

    test("it runs the project's own code, mounted from a ConfigMap, on a pinned Node image", () => {
        const code = find(resources, "kubernetes:core/v1:ConfigMap", "games-web-warm-code").inputs.data;
        expect(code["scheduler.ts"]).toBe(
            readFileSync(new URL("../components/shared/warm/scheduler.ts", import.meta.url), "utf8"),
        );
        expect(code["windows.ts"]).toBe(
            readFileSync(new URL("../components/shared/warm/windows.ts", import.meta.url), "utf8"),
        );
        const template = find(resources, "kubernetes:apps/v1:Deployment", "games-web-warm-deployment").inputs.spec
            .template;
        // Changed code rolls the pod: the template carries a digest of the mounted files.
        const digest = createHash("sha256");
        for (const file of ["scheduler.ts", "windows.ts"]) digest.update(`${file}\0${code[file]}\0`);
        expect(template.metadata.annotations["serverless-platform/code-sha256"]).toBe(digest.digest("hex"));
        const pod = template.spec;
        expect(pod.serviceAccountName).toBe("warm-scheduler");
        expect(pod.containers[0].image).toMatch(/^docker\.io\/library\/node:24\.\d+\.\d+-alpine$/);
        expect(pod.containers[0].command).toEqual(["node", "/app/scheduler.ts"]);
        expect(pod.containers[0].securityContext).toMatchObject({
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
        });
    });
});
