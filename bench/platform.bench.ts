/**
 * `npm run bench:platform -- [environment]`: what the platform's own runs cost as users run them, on the
 * simulated cluster with every upstream source on the mirror (e2e/platform.ts's world). Two fresh worlds: in
 * the first, the first `up` saving the state after every step (as users' runs do), the state's size by
 * resource type, and a no-change preview; in the second, the same `up` with checkpoints skipped. Not a test:
 * figures depend on the machine.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { saveEveryStep } from "../toolchain/engine.ts";
import { timed } from "./timed.ts";
import { platformWorld } from "../e2e/platform.ts";

const environment = process.argv[2] ?? "dev";

interface StoredResource {
    urn: string;
    type: string;
}

/** A resource of the state with its size as JSON (inputs and outputs together). */
interface Sized {
    resource: StoredResource;
    bytes: number;
}

/** Bytes per resource type, largest first. */
function bytesByType(sized: Sized[]): [string, { count: number; bytes: number }][] {
    const byType = new Map<string, { count: number; bytes: number }>();
    for (const { resource, bytes } of sized) {
        const entry = byType.get(resource.type) ?? { count: 0, bytes: 0 };
        entry.count += 1;
        entry.bytes += bytes;
        byType.set(resource.type, entry);
    }
    return [...byType].sort(([, a], [, b]) => b.bytes - a.bytes);
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(2);

async function firstUp(everyStep: boolean) {
    const { world, stack, stop } = await platformWorld(environment);
    try {
        saveEveryStep(stack, everyStep);
        const up = await timed(() => stack.up());
        return { world, stack, stop, up };
    } catch (error) {
        await stop();
        throw error;
    }
}

const saving = await firstUp(true);
try {
    // PULUMI_DIY_BACKEND_GZIP or _ZSTD, if set, compress it (`.json.gz`, `.json.zst`).
    const stacks = join(saving.world.dir, "state", ".pulumi", "stacks", "serverless-platform");
    const stateFile = join(stacks, readdirSync(stacks).find((file) => file.startsWith(`${environment}.json`)) ?? "");
    const { deployment } = (await saving.stack.exportStack()) as { deployment: { resources: StoredResource[] } };
    console.log(`${environment}: first up saving every step ${saving.up.toFixed(0)} s`);
    console.log(
        `state ${mib(statSync(stateFile).size)} MiB on disk, ${String(deployment.resources.length)} resources; by type:`,
    );
    const sized = deployment.resources.map((resource) => ({ resource, bytes: JSON.stringify(resource).length }));
    for (const [type, { count, bytes }] of bytesByType(sized).slice(0, 15))
        console.log(`  ${mib(bytes).padStart(6)} MiB  ${String(count).padStart(4)} × ${type}`);
    console.log("largest resources:");
    const largest = sized.toSorted((a, b) => b.bytes - a.bytes).slice(0, 10);
    for (const { resource, bytes } of largest)
        console.log(`  ${mib(bytes).padStart(6)} MiB  ${resource.urn.split("::").at(-1) ?? ""} (${resource.type})`);
    const preview = await timed(() => saving.stack.preview({ expectNoChanges: true }));
    console.log(`no-change preview ${preview.toFixed(0)} s`);
} finally {
    await saving.stop();
}
const skipping = await firstUp(false);
await skipping.stop();
console.log(`${environment}: first up with checkpoints skipped ${skipping.up.toFixed(0)} s`);
