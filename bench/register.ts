/**
 * One benchmark run, in a fresh process: registers N services under the
 * Pulumi SDK's mocks and prints {ms, heapMB} as JSON.
 *   node bench/register.ts <component|raw> <N>
 * The workload is bench/workload.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { VARIANTS, type Variant, registerServices } from "./workload.ts";

const [variant, countText] = process.argv.slice(2);
const count = Number(countText);
if (!(VARIANTS as readonly string[]).includes(variant ?? "") || !Number.isInteger(count) || count < 1) {
    console.error("usage: node bench/register.ts <component|raw> <N>");
    process.exit(2);
}

await pulumi.runtime.setMocks(
    {
        newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs as Record<string, unknown> }),
        call: (args) => args.inputs as Record<string, unknown>,
    },
    "bench",
    "bench",
    false,
);
// Retained heap, not garbage: the parent runs this with --expose-gc.
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
collect();
const heapBefore = process.memoryUsage().heapUsed;
const start = performance.now();
await pulumi.runtime.runInPulumiStack(async () => {
    registerServices(variant as Variant, count);
    return Promise.resolve(undefined);
});
// The hook the SDK's own disconnect waits on: resolves once every registration reached the mocks.
await (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs();
const ms = performance.now() - start;
collect();
const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
console.log(JSON.stringify({ ms, heapMB }));
