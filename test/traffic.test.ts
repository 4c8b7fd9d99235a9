import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Problems } from "../components/shared/problems.ts";
import { Traffic, renderTraffic } from "../components/app/traffic.ts";

const problemsOf = (fn: (p: Problems) => void): string[] => {
    const problems = new Problems('ServerlessService "api"');
    fn(problems);
    try {
        problems.throwIfAny();
        return [];
    } catch (error) {
        return (error as Error).message.split("\n");
    }
};

describe("Traffic helpers", () => {
    test("canary splits between the pinned stable revision and the latest one, tagged", () => {
        expect(Traffic.canary("api-v1", 10)).toEqual([
            { revisionName: "api-v1", percent: 90, tag: "stable" },
            { latestRevision: true, percent: 10, tag: "canary" },
        ]);
    });

    test("every canary percent from 0 to 100 renders a valid split summing to 100", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 100 }), (percent) => {
                const problems = new Problems('ServerlessService "api"');
                const rendered = renderTraffic("api", Traffic.canary("api-v1", percent), "api-v2", problems);
                expect(problems.count).toBe(0);
                expect(rendered.reduce((sum, t) => sum + (t.percent ?? 0), 0)).toBe(100);
                expect(rendered[1]).toEqual({ latestRevision: true, percent, tag: "canary" });
            }),
        );
    });

    test("latest and pin", () => {
        expect(Traffic.latest()).toEqual([{ latestRevision: true, percent: 100 }]);
        expect(Traffic.pin("api-v3")).toEqual([{ revisionName: "api-v3", percent: 100 }]);
    });
});

describe("renderTraffic follows Knative's route validation", () => {
    test('a revision of another service, a target naming no revision, and "" for unset are what Knative accepts', () => {
        const problems = new Problems("x");
        expect(
            renderTraffic(
                "api",
                [{ revisionName: "other-v1", percent: 50, tag: "" }, { percent: 50 }],
                undefined,
                problems,
            ),
        ).toEqual([
            { revisionName: "other-v1", latestRevision: false, percent: 50 },
            { latestRevision: true, percent: 50 },
        ]);
        expect(problems.messages).toEqual([]);
    });

    test("renders latestRevision explicitly on every target, so Knative's defaulting never shows as a diff", () => {
        const rendered = renderTraffic("api", [{ revisionName: "api-v1", percent: 100 }], undefined, new Problems("x"));
        expect(rendered).toEqual([{ revisionName: "api-v1", latestRevision: false, percent: 100 }]);
    });

    test.each([
        [
            [
                { latestRevision: true as const, percent: 60 },
                { revisionName: "api-v1", percent: 50 },
            ],
            'ServerlessService "api": traffic percents must sum to 100 (got 110)',
        ],
        [
            [{ latestRevision: true as const, percent: 101 }],
            'ServerlessService "api": traffic[0].percent must be a whole number from 0 to 100 (got 101)',
        ],
        [
            [{ revisionName: "api-v2", percent: 100 }],
            'ServerlessService "api": traffic[0].revisionName names the revision this update creates (revisionName); a canary\'s stable revision must be an earlier one (got "api-v2")',
        ],
        [
            [{ revisionName: "api-v1", latestRevision: true, percent: 100 } as never],
            'ServerlessService "api": traffic[0] must set one of revisionName and latestRevision: true, not both (got {"revisionName":"api-v1","latestRevision":true,"percent":100})',
        ],
        [
            [{ latestRevision: true as const, percent: 100, tag: `c${"a".repeat(59)}` }],
            `ServerlessService "api": traffic[0].tag makes the route host "c${"a".repeat(59)}-api", 64 characters; Knative's route needs a DNS label of at most 63: shorten the service name or the tag (got "c${"a".repeat(59)}")`,
        ],
        [
            [
                { latestRevision: true as const, percent: 50, tag: "Canary" },
                { revisionName: "api-v1", percent: 50 },
            ],
            'ServerlessService "api": traffic[0].tag must be a DNS-1035 label (lowercase letters, digits, \'-\', starting with a letter) (got "Canary")',
        ],
        [
            [
                { latestRevision: true as const, percent: 50, tag: "x" },
                { revisionName: "api-v1", percent: 50, tag: "x" },
            ],
            'ServerlessService "api": traffic[1].tag must be unique within traffic (got "x")',
        ],
    ])("%j is refused", (traffic, message) => {
        expect(problemsOf((p) => renderTraffic("api", traffic, "api-v2", p))).toEqual([message]);
    });
});
