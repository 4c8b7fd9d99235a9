/**
 * The cold-start trade-off, computed: for an example day of traffic, what
 * scale-to-zero, a scheduled warm window and an always-warm service cost in
 * warm pod-hours and in first requests that wait for a cold start.
 *   npm run tradeoff     prints the table docs/app-teams.md shows
 * The schedule is evaluated by the scheduler's own logic (components/shared/warm/windows.ts).
 */
import { Warm } from "../components/app/warm.ts";
import { type WarmSchedule, desiredMinScale } from "../components/shared/warm/windows.ts";

/** An example game API in Seoul: requests arrive in bursts, often in the evening, rarely by day, never at night. */
export function exampleTrafficMinutes(): number[] {
    const minutes: number[] = [];
    const burstsEvery = (fromHour: number, toHour: number, everyMinutes: number) => {
        for (let m = fromHour * 60; m < toHour * 60; m += everyMinutes) minutes.push(m);
    };
    burstsEvery(8, 18, 47); // daytime: a burst every 47 minutes
    burstsEvery(18, 24, 12); // evening peak: every 12 minutes
    burstsEvery(0, 2, 12); // until 02:00
    return minutes.sort((a, b) => a - b);
}

/** Minutes without traffic after which Knative has scaled a revision to zero (grace period plus stable window, rounded up). */
export const MINUTES_TO_ZERO = 2;

/** One strategy's cost over a day. */
export interface DayCost {
    /** Pod-hours held by min-scale alone, whatever the traffic. */
    warmPodHours: number;
    /** Bursts whose first request meets zero pods. */
    coldStarts: number;
    /** Bursts in the evening peak (18:00–02:00) that meet zero pods. */
    eveningColdStarts: number;
}

/** Walks the day minute by minute (Seoul time, on a day without DST) under a schedule. */
export function dayCost(
    schedule: WarmSchedule,
    traffic: readonly number[],
    day = new Date("2026-11-26T00:00:00+09:00"),
): DayCost {
    let warmPodMinutes = 0;
    let coldStarts = 0;
    let eveningColdStarts = 0;
    let lastRequest = Number.NEGATIVE_INFINITY;
    const requests = new Set(traffic);
    for (let minute = 0; minute < 24 * 60; minute++) {
        const minScale = desiredMinScale(schedule, new Date(day.getTime() + minute * 60_000));
        warmPodMinutes += minScale;
        if (requests.has(minute)) {
            if (minScale === 0 && minute - lastRequest > MINUTES_TO_ZERO) {
                coldStarts++;
                if (minute >= 18 * 60 || minute < 2 * 60) eveningColdStarts++;
            }
            lastRequest = minute;
        }
    }
    return { warmPodHours: warmPodMinutes / 60, coldStarts, eveningColdStarts };
}

/** The three strategies the app teams' guide compares, for 3 warm pods. */
export const STRATEGIES: Record<string, WarmSchedule> = {
    "scale to zero (`minScale: 0`)": { baseMinScale: 0, windows: [], warmUp: false },
    'scheduled warm (`Warm.between("18:00", "02:00", { timezone: "Asia/Seoul", minScale: 3 })`)': {
        baseMinScale: 0,
        windows: [Warm.between("18:00", "02:00", { timezone: "Asia/Seoul", minScale: 3 })],
        warmUp: true,
    },
    "always warm (`minScale: 3`)": { baseMinScale: 3, windows: [], warmUp: false },
};

/** The app teams' guide's table. */
export function tradeoffTable(): string {
    const traffic = exampleTrafficMinutes();
    const rows = Object.entries(STRATEGIES).map(([name, schedule]) => {
        const cost = dayCost(schedule, traffic);
        return `| ${name} | ${cost.warmPodHours.toFixed(1)} | ${cost.coldStarts} of ${traffic.length} | ${cost.eveningColdStarts} |`;
    });
    return [
        "| strategy | warm pod-hours per day | bursts that meet a cold start | of them in the evening peak |",
        "|---|---|---|---|",
        ...rows,
    ].join("\n");
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
    console.log(tradeoffTable());
}
