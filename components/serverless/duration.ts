/**
 * Durations as Knative's autoscaling annotations read them: Go's
 * `time.ParseDuration` syntax ("90s", "5m", "1h30m", "250ms").
 * @see https://pkg.go.dev/time#ParseDuration
 */

const UNIT_MS: Readonly<Record<string, number>> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    μs: 1e-3,
    ms: 1,
    s: 1_000,
    m: 60_000,
    h: 3_600_000,
};

const GO_DURATION = /^[-+]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;
const TERM = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a Go duration into milliseconds, or returns undefined when the text
 * is not one (Go rejects "5" without a unit, "1d", "5 m", and the empty string).
 */
export function parseGoDuration(text: string): number | undefined {
    if (!GO_DURATION.test(text)) {
        return undefined;
    }
    const sign = text.startsWith("-") ? -1 : 1;
    let total = 0;
    for (const [, amount, unit] of text.matchAll(TERM)) {
        total += Number(amount) * (UNIT_MS[unit as string] as number);
    }
    return sign * total;
}

/** True when a duration in milliseconds is a whole number of seconds (Knative's "second precision"). */
export function isWholeSeconds(ms: number): boolean {
    return Math.round(ms * 1e6) % 1e9 === 0;
}

/**
 * Writes milliseconds as an ISO-8601 duration ("PT1M30S", "PT0.2S"), the form
 * Knative Eventing's delivery spec reads.
 * @see https://knative.dev/docs/eventing/event-delivery/
 */
export function toIso8601(ms: number): string {
    const hours = Math.floor(ms / 3_600_000);
    const minutes = Math.floor((ms % 3_600_000) / 60_000);
    const seconds = Math.round((ms % 60_000) * 1000) / 1_000_000;
    const parts = [hours > 0 ? `${hours}H` : "", minutes > 0 ? `${minutes}M` : "", seconds > 0 ? `${seconds}S` : ""];
    const body = parts.join("");
    return `PT${body === "" ? "0S" : body}`;
}
