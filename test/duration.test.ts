import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { parseGoDuration, toIso8601 } from "../components/shared/duration.ts";
import { parseQuantity } from "../components/shared/quantity.ts";

describe("parseGoDuration reads Go's time.ParseDuration syntax", () => {
    test.each([
        ["0", 0],
        ["90s", 90_000],
        ["5m", 300_000],
        ["1h30m", 5_400_000],
        ["250ms", 250],
        ["1.5s", 1_500],
        ["-2m", -120_000],
        ["1h0m0s", 3_600_000],
        ["100us", 0.1],
    ])("%s is %d ms", (text, ms) => {
        expect(parseGoDuration(text)?.ms).toBeCloseTo(ms, 9);
    });

    test.each(["", "5", "1d", "5 m", "m5", "1h 30m", "1.2.3s", "PT5M", ".s", "1hm", "2562048h", "9223372037s"])(
        "%j is not a Go duration",
        (text) => {
            expect(parseGoDuration(text)).toBeUndefined();
        },
    );

    test("any sum of hours, minutes and seconds reads back as written", () => {
        fc.assert(
            fc.property(fc.nat(99), fc.nat(59), fc.nat(59), (h, m, s) => {
                expect(parseGoDuration(`${h}h${m}m${s}s`)?.ms).toBe(((h * 60 + m) * 60 + s) * 1000);
            }),
        );
    });

    test("second precision, with fractions truncated to whole nanoseconds as Go truncates them", () => {
        expect(parseGoDuration("90s")?.wholeSeconds).toBe(true);
        expect(parseGoDuration("1500ms")?.wholeSeconds).toBe(false);
        expect(parseGoDuration("0.9999999999s")).toMatchObject({ ns: 999_999_999n, wholeSeconds: false });
        expect(parseGoDuration("59.9999999999s")).toMatchObject({ ns: 59_999_999_999n, wholeSeconds: false });
        expect(parseGoDuration("999999999.6ns")).toMatchObject({ ns: 999_999_999n, wholeSeconds: false });
        expect(parseGoDuration("1.5h")).toMatchObject({ ns: 5_400_000_000_000n, wholeSeconds: true });
    });

    test("Go's limit is 2562047h47m16.854775807s", () => {
        expect(parseGoDuration("2562047h47m16.854775807s")?.ns).toBe((1n << 63n) - 1n);
        expect(parseGoDuration("2562047h47m16.854775808s")).toBeUndefined();
    });
});

describe("toIso8601 writes Eventing's delivery durations", () => {
    test.each([
        [200, "PT0.2S"],
        [2_000, "PT2S"],
        [90_000, "PT1M30S"],
        [3_600_000, "PT1H"],
        [0, "PT0S"],
    ])("%d ms is %s", (ms, iso) => {
        expect(toIso8601(ms)).toBe(iso);
    });

    test("the ISO text always reads back to the same milliseconds", () => {
        fc.assert(
            fc.property(fc.integer({ min: 0, max: 10 * 3_600_000 }), (ms) => {
                const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?$/.exec(toIso8601(ms));
                expect(match).not.toBeNull();
                const [, h = "0", m = "0", s = "0"] = match ?? [];
                expect(Math.round((Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000)).toBe(ms);
            }),
        );
    });
});

describe("parseQuantity reads Kubernetes quantities", () => {
    test.each([
        ["500m", 0.5],
        ["2", 2],
        ["1.5", 1.5],
        ["512Mi", 512 * 2 ** 20],
        ["1Gi", 2 ** 30],
        ["2G", 2e9],
        ["1e3", 1000],
    ])("%s is %d", (text, value) => {
        expect(parseQuantity(text)).toBeCloseTo(value, 9);
    });

    test.each(["", "1 Gi", "Mi", "1GB", "-1", "one"])("%j is not a quantity", (text) => {
        expect(parseQuantity(text)).toBeUndefined();
    });
});
