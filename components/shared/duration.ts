/**
 * Durations as Knative's autoscaling annotations read them: Go's
 * `time.ParseDuration` syntax ("90s", "5m", "1h30m", "250ms").
 * @see https://pkg.go.dev/time#ParseDuration
 */

/** Nanoseconds per unit, as Go's time package knows them. */
const UNIT_NS: Readonly<Record<string, bigint>> = {
    ns: 1n,
    us: 1_000n,
    µs: 1_000n, // U+00B5 micro sign
    μs: 1_000n, // U+03BC Greek mu
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;
const TERM = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/** A Go duration, exactly as Go's `time.ParseDuration` reads it. */
export interface GoDuration {
    /** The duration in nanoseconds, truncated where Go truncates. */
    ns: bigint;
    /** The same in milliseconds (a float). */
    ms: number;
    /** Knative's "at most second precision": a whole number of seconds. */
    wholeSeconds: boolean;
}

/**
 * Parses a Go duration the way Go does, or returns undefined where Go returns an error: a
 * missing unit ("5"), an unknown one ("1d"), spaces, the empty string, or a value past Go's
 * limit of 2562047h47m16.854775807s. Fractions are truncated to whole nanoseconds, as Go
 * truncates them, so "0.9999999999s" is 999999999ns (not whole seconds).
 * @see https://pkg.go.dev/time#ParseDuration
 */
export function parseGoDuration(text: string): GoDuration | undefined {
    let rest = text;
    let negative = false;
    if (rest.startsWith("-") || rest.startsWith("+")) {
        negative = rest.startsWith("-");
        rest = rest.slice(1);
    }
    if (rest === "0") return { ns: 0n, ms: 0, wholeSeconds: true };
    if (rest === "") return undefined;
    let total = 0n;
    while (rest !== "") {
        const term = TERM.exec(rest);
        const [whole = "", fraction = "", unitName = ""] = term?.slice(1) ?? [];
        if (term === null || (whole === "" && fraction === "")) return undefined;
        const unit = UNIT_NS[unitName] as bigint;
        const value = BigInt(whole === "" ? "0" : whole);
        if (value > MAX_INT64 / unit) return undefined;
        let amount = value * unit;
        const { digits, scale } = leadingFraction(fraction);
        // Go scales the fraction in float64 and truncates toward zero.
        if (digits > 0) amount += BigInt(Math.trunc(digits * (Number(unit) / scale)));
        total += amount;
        if (total > MAX_INT64) return undefined;
        rest = rest.slice(term[0].length);
    }
    const ns = negative ? -total : total;
    return { ns, ms: Number(ns) / 1e6, wholeSeconds: ns % 1_000_000_000n === 0n };
}

/** Go's leadingFraction: the digits as a number and their scale, ignoring digits past int64 precision. */
function leadingFraction(fraction: string): { digits: number; scale: number } {
    let digits = 0n;
    let scale = 1;
    for (const digit of fraction) {
        if (digits > MAX_INT64 / 10n) break;
        digits = digits * 10n + BigInt(digit);
        scale *= 10;
    }
    return { digits: Number(digits), scale };
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
