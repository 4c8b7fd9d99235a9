import { isIanaTimeZone } from "./schedule.ts";
import type { Problems } from "../shared/problems.ts";
import { DAYS, type Day, type WarmSchedule, type WarmWindow, parseClock } from "../shared/warm/windows.ts";

/** Options of a warm window: where the clock is, how many pods, which days. */
export interface WarmOptions {
    /** IANA time zone the times are read in. @default "UTC" */
    timezone?: string;
    /** Pods kept warm while the window is open. */
    minScale: number;
    /** Days the window starts on. @default every day */
    days?: Day[];
}

/** Ready-made warm windows that read like intent. */
export const Warm = {
    /**
     * Keep `minScale` pods warm from `from` until `until`, local time:
     * `Warm.between("18:00", "02:00", { timezone: "Asia/Seoul", minScale: 3 })`.
     */
    between(from: string, until: string, options: WarmOptions): WarmWindow {
        return {
            from,
            until,
            timezone: options.timezone ?? "UTC",
            minScale: options.minScale,
            ...(options.days ? { days: options.days } : {}),
        };
    },
};

/**
 * Checks warm windows against the service's scale bounds. Overlapping
 * windows are allowed and resolved by a documented rule: the highest
 * min-scale among the open windows applies.
 */
export function checkWarmWindows(
    windows: readonly WarmWindow[],
    minScale: number,
    maxScale: number,
    metricIsKpa: boolean,
    problems: Problems,
): void {
    if (windows.length > 0 && !metricIsKpa) {
        problems.add(
            "scaling.schedule",
            "needs the concurrency or rps metric: the HPA does not read min-scale changes of a live revision",
            windows.length,
        );
    }
    windows.forEach((w, i) => {
        const at = `scaling.schedule[${i}]`;
        const from = parseClock(w.from);
        const until = parseClock(w.until);
        if (from === undefined) problems.add(`${at}.from`, 'must be a 24-hour time "HH:MM"', w.from);
        if (until === undefined) problems.add(`${at}.until`, 'must be a 24-hour time "HH:MM"', w.until);
        if (from !== undefined && from === until)
            problems.add(`${at}.until`, "must differ from from (a window of no time)", w.until);
        if (!isIanaTimeZone(w.timezone))
            problems.add(`${at}.timezone`, 'must be an IANA time zone name such as "Asia/Seoul" or "UTC"', w.timezone);
        if (!Number.isInteger(w.minScale) || w.minScale <= minScale || w.minScale > maxScale) {
            problems.add(
                `${at}.minScale`,
                `must be a whole number above scaling.minScale (${minScale}) and at most scaling.maxScale (${maxScale})`,
                w.minScale,
            );
        }
        for (const day of w.days ?? []) {
            if (!(DAYS as readonly string[]).includes(day))
                problems.add(`${at}.days`, `must be among ${DAYS.join(", ")}`, day);
        }
        if (w.days?.length === 0)
            problems.add(`${at}.days`, "must name at least one day, or be left out for every day", w.days);
    });
}

/** The schedule the scheduler reads from the service's annotation. */
export function warmSchedule(windows: WarmWindow[], baseMinScale: number, warmUp: boolean): WarmSchedule {
    return { baseMinScale, windows, warmUp };
}
