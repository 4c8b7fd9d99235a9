/**
 * Warm windows: which min-scale applies to a service at a given instant.
 *
 * This file is the scheduler's logic as well as the component's: the
 * platform mounts it, unchanged, into the in-cluster scheduler (Node runs it
 * directly), so it imports nothing and uses only erasable TypeScript.
 */

/** Days, as JavaScript numbers them. */
export const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;
export type Day = (typeof DAYS)[number];

/**
 * A daily window of warm capacity: from `from` until `until` (local wall-clock
 * time in `timezone`, "HH:MM"), starting on each of `days`. A window whose
 * `until` is not after `from` ends the next day ("18:00" to "02:00").
 */
export interface WarmWindow {
    /** Local wall-clock time the window opens, "HH:MM". */
    from: string;
    /** Local wall-clock time it closes, "HH:MM" (not after `from`: the next day). */
    until: string;
    /** IANA time zone of `from` and `until`, e.g. "Asia/Seoul". */
    timezone: string;
    /** Pods kept inside the window. */
    minScale: number;
    /** Days the window starts on. @default every day */
    days?: Day[];
}

/** What the scheduler reads from a Knative Service's annotation. */
export interface WarmSchedule {
    /** min-scale outside every window (the revision template's). */
    baseMinScale: number;
    windows: WarmWindow[];
    /** Send one request through the service when a window raises min-scale from zero. */
    warmUp: boolean;
}

/** The Knative Service annotation that carries a service's schedule. */
export const SCHEDULE_ANNOTATION = "serverless-platform/warm-schedule";
export const MIN_SCALE_ANNOTATION = "autoscaling.knative.dev/min-scale";
/** Marks a revision whose min-scale the scheduler set, so that it can give the revision's own back. */
export const MANAGED_ANNOTATION = "serverless-platform/warm-managed";

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight and the local weekday of an instant in a time zone (DST included). */
export function localTime(instant: Date, timezone: string): { day: number; minutes: number } {
    let format = formatters.get(timezone);
    if (format === undefined) {
        format = new Intl.DateTimeFormat("en-US", {
            timeZone: timezone,
            weekday: "short",
            hour: "2-digit",
            minute: "2-digit",
            hourCycle: "h23",
        });
        formatters.set(timezone, format);
    }
    const parts = Object.fromEntries(format.formatToParts(instant).map((p) => [p.type, p.value]));
    return {
        day: DAYS.indexOf(String(parts.weekday).toUpperCase() as Day),
        minutes: Number(parts.hour) * 60 + Number(parts.minute),
    };
}

/** "18:30" → 1110; undefined when not a 24-hour "HH:MM". */
export function parseClock(text: string): number | undefined {
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
    return match ? Number(match[1]) * 60 + Number(match[2]) : undefined;
}

/** Whether `window` is open at `instant`. */
export function isOpen(window: WarmWindow, instant: Date): boolean {
    const from = parseClock(window.from) ?? 0;
    const until = parseClock(window.until) ?? 0;
    const { day, minutes } = localTime(instant, window.timezone);
    const startsOn = (d: number) => window.days === undefined || window.days.includes(DAYS[(d + 7) % 7] as Day);
    if (from < until) {
        return startsOn(day) && minutes >= from && minutes < until;
    }
    // Wraps past midnight: open from `from` today, or until `until` on the day after a start day.
    return (startsOn(day) && minutes >= from) || (startsOn(day - 1) && minutes < until);
}

/** The min-scale that applies at `instant`: the highest of the open windows', or the base outside them all. */
export function desiredMinScale(schedule: WarmSchedule, instant: Date): number {
    return schedule.windows
        .filter((w) => isOpen(w, instant))
        .reduce((max, w) => Math.max(max, w.minScale), schedule.baseMinScale);
}

/** A revision as the scheduler sees it. */
export interface RevisionState {
    name: string;
    minScale: string | undefined;
    /** Whether the scheduler set its min-scale (and so must give the revision's own back when the schedule goes). */
    managed?: boolean;
}

/**
 * The revisions to patch: those that take traffic (by the Knative Service's
 * status) and whose min-scale differs from `desired`. Revisions that take no
 * traffic are left alone, so an old revision never holds warm pods.
 */
export function revisionsToPatch(
    routed: readonly string[],
    revisions: readonly RevisionState[],
    desired: number,
): string[] {
    return revisions.filter((r) => routed.includes(r.name) && r.minScale !== String(desired)).map((r) => r.name);
}

/** Revision names that take traffic, from a Knative Service's `status.traffic`. */
export function routedRevisions(traffic: readonly { revisionName?: string; percent?: number }[] | undefined): string[] {
    return [
        ...new Set(
            (traffic ?? [])
                .filter((t) => (t.percent ?? 0) > 0 && t.revisionName !== undefined)
                .map((t) => t.revisionName as string),
        ),
    ];
}
