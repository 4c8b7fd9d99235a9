/**
 * `npm run bench`: the cost of ServerlessService against the same resources
 * written by hand, for 1, 10, 100 and 1,000 services under the SDK's mocks.
 * Each figure is the median of several runs, each in a fresh process.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const SIZES = [1, 10, 100, 1000];
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const runner = fileURLToPath(new URL("./register.ts", import.meta.url));

interface Sample {
    ms: number;
    heapMB: number;
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function measure(variant: "component" | "raw", count: number): Sample {
    const samples = Array.from(
        { length: RUNS },
        () =>
            JSON.parse(
                execFileSync(process.execPath, ["--expose-gc", runner, variant, String(count)], { encoding: "utf8" }),
            ) as Sample,
    );
    return { ms: median(samples.map((s) => s.ms)), heapMB: median(samples.map((s) => s.heapMB)) };
}

console.log(`node ${process.version}, ${RUNS} runs per figure (median)\n`);
console.log(
    "services | component ms | by hand ms | time ratio | component MB | by hand MB | ms per service (component)",
);
// MB: heap retained after registering, with garbage collected before and after.
console.log(
    "-------- | ------------ | ---------- | ---------- | ------------ | ---------- | --------------------------",
);
for (const count of SIZES) {
    const component = measure("component", count);
    const raw = measure("raw", count);
    console.log(
        [
            String(count).padStart(8),
            component.ms.toFixed(1).padStart(12),
            raw.ms.toFixed(1).padStart(10),
            `${(component.ms / raw.ms).toFixed(2)}x`.padStart(10),
            component.heapMB.toFixed(1).padStart(12),
            raw.heapMB.toFixed(1).padStart(10),
            (component.ms / count).toFixed(2).padStart(26),
        ].join(" | "),
    );
}
