/**
 * The cold-start probe: how long the first request to a scaled-to-zero
 * service takes, compared across services (e.g. the jvm and native presets).
 *
 *   npm run coldstart -- --url jvm=http://api-jvm.games-web.example.com \
 *                        --url native=http://api-native.games-web.example.com \
 *                        --samples 5 --idle 120
 *
 * Before each round it waits until the services are cold: `--idle <s>` seconds
 * without traffic (longer than the scale-to-zero grace period plus the stable
 * window), or until `--zero-check "<command>"` prints nothing (e.g.
 * `kubectl get pods -n games-web -l serving.knative.dev/service=api -o name`),
 * or not at all with `--assume-cold`. Then it times one request to each URL:
 * time to first byte and total. It prints min, median and p95 per service.
 */
import { execSync } from "node:child_process";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { parseArgs } from "node:util";

/** One timed request. */
export interface Sample {
    ttfbMs: number;
    totalMs: number;
    status: number;
}

/** Times one GET: until the response's first byte, and until its end. */
export function measure(url: string, timeoutMs = 300_000): Promise<Sample> {
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
        const start = performance.now();
        const req = request(url, { method: "GET", timeout: timeoutMs }, (res) => {
            const ttfbMs = performance.now() - start;
            res.on("data", () => undefined);
            res.on("end", () => {
                resolve({ ttfbMs, totalMs: performance.now() - start, status: res.statusCode ?? 0 });
            });
        });
        req.on("timeout", () => req.destroy(new Error(`${url}: no answer in ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end();
    });
}

/** Min, median and p95 (nearest rank) of a set of numbers. */
export function summarize(values: readonly number[]): { min: number; median: number; p95: number } {
    if (values.length === 0) throw new Error("no samples");
    const sorted = [...values].sort((a, b) => a - b);
    const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
    return { min: sorted[0] as number, median: rank(0.5), p95: rank(0.95) };
}

/** How the probe knows the services are cold before a round. */
export type ColdWait = { kind: "idle"; ms: number } | { kind: "command"; command: string } | { kind: "assume" };

/** Runs `samples` rounds over the targets; each round waits for cold, then times one request per target. */
export async function probe(
    targets: Record<string, string>,
    samples: number,
    wait: ColdWait,
): Promise<Record<string, Sample[]>> {
    const results: Record<string, Sample[]> = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
    for (let round = 0; round < samples; round++) {
        await waitUntilCold(wait);
        for (const [name, url] of Object.entries(targets)) {
            results[name]?.push(await measure(url));
        }
    }
    return results;
}

async function waitUntilCold(wait: ColdWait): Promise<void> {
    if (wait.kind === "idle") {
        await new Promise((resolve) => setTimeout(resolve, wait.ms));
    } else if (wait.kind === "command") {
        while (execSync(wait.command, { encoding: "utf8" }).trim() !== "") {
            await new Promise((resolve) => setTimeout(resolve, 2_000));
        }
    }
}

/** The comparison table, in Markdown. */
export function renderTable(results: Record<string, Sample[]>): string {
    const ms = (n: number) => `${Math.round(n)} ms`;
    const rows = Object.entries(results).map(([name, samples]) => {
        const ttfb = summarize(samples.map((s) => s.ttfbMs));
        const total = summarize(samples.map((s) => s.totalMs));
        const failed = samples.filter((s) => s.status >= 400).length;
        return `| ${name} | ${samples.length} | ${ms(ttfb.min)} | ${ms(ttfb.median)} | ${ms(ttfb.p95)} | ${ms(total.median)} | ${ms(total.p95)} | ${failed} |`;
    });
    return [
        "| service | samples | first byte min | first byte median | first byte p95 | total median | total p95 | HTTP errors |",
        "|---|---|---|---|---|---|---|---|",
        ...rows,
    ].join("\n");
}

/** Reads `--url name=url` (or a bare url) into named targets. */
export function parseTargets(urls: readonly string[]): Record<string, string> {
    return Object.fromEntries(
        urls.map((entry) => {
            const eq = entry.indexOf("=");
            const [name, url] =
                eq > 0 && !entry.slice(0, eq).includes("/")
                    ? [entry.slice(0, eq), entry.slice(eq + 1)]
                    : [entry, entry];
            if (!URL.canParse(url) || !/^https?:/.test(url)) throw new Error(`--url ${entry}: not an http(s) URL`);
            return [name, url];
        }),
    );
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
    const { values } = parseArgs({
        options: {
            url: { type: "string", multiple: true, default: [] },
            samples: { type: "string", default: "5" },
            idle: { type: "string", default: "120" },
            "zero-check": { type: "string" },
            "assume-cold": { type: "boolean", default: false },
        },
    });
    const samples = Number(values.samples);
    if (values.url.length === 0 || !Number.isInteger(samples) || samples < 1) {
        console.error(
            "usage: npm run coldstart -- --url [name=]URL [--url …] [--samples N] [--idle SECONDS | --zero-check CMD | --assume-cold]",
        );
        process.exit(2);
    }
    const wait: ColdWait = values["assume-cold"]
        ? { kind: "assume" }
        : values["zero-check"] !== undefined
          ? { kind: "command", command: values["zero-check"] }
          : { kind: "idle", ms: Number(values.idle) * 1000 };
    const results = await probe(parseTargets(values.url), samples, wait);
    console.log(renderTable(results));
}
