import { Cron } from "croner";

/**
 * Cron schedules and time zones as Knative's PingSource reads them: the
 * standard five fields or a descriptor such as "@hourly", parsed by Go's
 * robfig/cron, and an IANA time zone name.
 * @see https://knative.dev/docs/eventing/sources/ping-source/
 */

const DESCRIPTORS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);
const NAMES = /\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi;

/**
 * Remembers answers: a platform evaluates the same few schedules and zones for
 * hundreds of services, and both checks construct parsers that are slow to build.
 */
function memoized<R>(check: (text: string) => R): (text: string) => R {
    const answers = new Map<string, R>();
    return (text) => {
        if (!answers.has(text)) {
            answers.set(text, check(text));
        }
        return answers.get(text) as R;
    };
}

/** Why a schedule is not a standard cron schedule, or undefined when it is one. */
export const cronProblem = memoized((schedule: string): string | undefined => {
    const text = schedule.trim();
    if (text.startsWith("@")) {
        return DESCRIPTORS.has(text)
            ? undefined
            : `must be 5 cron fields or one of ${[...DESCRIPTORS].join(", ")} (Knative rejects @every)`;
    }
    const fields = text.split(/\s+/);
    if (fields.length !== 5) {
        return `must have 5 fields (minute hour day-of-month month day-of-week), not ${fields.length}`;
    }
    if (/[LW#]/i.test(text.replace(NAMES, ""))) {
        return "must not use the L, W or # extensions, which Knative's cron parser does not know";
    }
    if (fields[4] !== undefined && /(^|[,-])7($|[,/-])/.test(fields[4])) {
        return "must write Sunday as 0 or SUN in the day-of-week field (7 is not accepted)";
    }
    try {
        new Cron(text, { paused: true, mode: "5-part" });
    } catch (error) {
        return `is not a valid cron schedule: ${(error as Error).message.replace(/^CronPattern: /, "")}`;
    }
    return undefined;
});

/** Case-sensitive, as Go's time.LoadLocation is on Linux: "Asia/Seoul", "UTC", "Etc/GMT-9". */
const IANA_SHAPE = /^(UTC|[A-Z][A-Za-z0-9_+-]*(\/[A-Z0-9][A-Za-z0-9_+-]*)*)$/;

/** True when `zone` is an IANA time zone name that both Node and Go know. */
export const isIanaTimeZone = memoized((zone: string): boolean => {
    if (!IANA_SHAPE.test(zone)) {
        return false;
    }
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: zone });
        return true;
    } catch {
        return false;
    }
});
