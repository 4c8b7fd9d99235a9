import { describe, expect, test } from "vitest";
import { cronProblem, isIanaTimeZone } from "../components/app/schedule.ts";

describe("cronProblem accepts what Knative's PingSource parses", () => {
    test.each([
        "0 * * * *",
        "*/15 9-17 * * MON-FRI",
        "0 18 * * 1-5",
        "30 2 1 JAN,JUL *",
        "0 0 ? * SUN",
        "@hourly",
        "@daily",
    ])("%j is a schedule", (schedule) => {
        expect(cronProblem(schedule)).toBeUndefined();
    });

    test.each([
        [
            "@every 5m",
            "must be 5 cron fields or one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly (Knative rejects @every)",
        ],
        ["0 * * *", "must have 5 fields (minute hour day-of-month month day-of-week), not 4"],
        ["0 0 * * * *", "must have 5 fields (minute hour day-of-month month day-of-week), not 6"],
        ["0 0 L * *", "must not use the L, W or # extensions, which Knative's cron parser does not know"],
        ["0 0 * * 7", "must write Sunday as 0 or SUN in the day-of-week field (7 is not accepted)"],
        ["61 * * * *", "is not a valid cron schedule: Invalid value for minute: 61"],
    ])("%j is refused", (schedule, problem) => {
        expect(cronProblem(schedule)).toBe(problem);
    });
});

describe("isIanaTimeZone", () => {
    test.each(["Asia/Seoul", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT-9", "Europe/London"])(
        "%s is a zone",
        (zone) => {
            expect(isIanaTimeZone(zone)).toBe(true);
        },
    );
    test.each(["asia/seoul", "KST9", "+09:00", "Mars/Olympus", "", "Asia/Seoul "])("%j is not", (zone) => {
        expect(isIanaTimeZone(zone)).toBe(false);
    });
});
