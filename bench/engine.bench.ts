/**
 * `npm run bench:engine`: what ServerlessService costs on the real engine. For 1, 10, 100 and
 * 1,000 services (bench/workload.ts) on the local simulated cluster, with Knative Serving's own
 * control plane running, the wall time of the first `up` (until Knative reports every service
 * Ready) and of a no-change `preview`, with the component and with the same objects written by hand
 * as CustomResources, in the same run; and the peak memory of the engine (the `pulumi` CLI) and
 * of the Kubernetes provider, each printed as it is measured. Between variants the objects are deleted
 * through the API and the stack forgotten (a timed `destroy` would double the run for a figure nobody
 * waits on), and the next variant waits until Knative has finished removing them. Not a
 * test: figures depend on the machine.
 *   npm run bench:engine -- [1,10,100,1000]
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { deployPlatformStandIn } from "../e2e/platform-stand-in.ts";
import { type World, eventually, scratchProject, stackOf, startWorld } from "../e2e/world.ts";
import { toolchain } from "../toolchain/toolchain.ts";
import { timed } from "./timed.ts";
import { NAMESPACE, VARIANTS, type Variant, registerServices } from "./workload.ts";

/** Selects the Deployments Knative makes for revisions (not the namespace's warm scheduler). */
const REVISIONS = "labelSelector=serving.knative.dev%2Frevision";

const sizes = (process.argv[2] ?? "1,10,100,1000").split(",").map(Number);

/** Peak resident memory (MiB) of the processes whose command is `name`, sampled while `work` runs. */
async function withPeakMemory<T>(names: string[], work: () => Promise<T>): Promise<{ result: T; peakMiB: number[] }> {
    const peaks = names.map(() => 0);
    const sample = () => {
        for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
            try {
                const status = readFileSync(`/proc/${pid}/status`, "utf8");
                const command = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "";
                const rss = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 1024;
                names.forEach((name, i) => {
                    // The kernel keeps the first 15 characters of a command's name.
                    if (name.slice(0, 15) === command && rss > (peaks[i] ?? 0)) peaks[i] = rss;
                });
            } catch {
                // The process ended between the listing and the read.
            }
        }
    };
    const timer = setInterval(sample, 200);
    try {
        return { result: await work(), peakMiB: peaks };
    } finally {
        clearInterval(timer);
    }
}

interface Figures {
    up: number;
    preview: number;
    engineMiB: number;
    providerMiB: number;
}

interface Measured {
    stack: Stack;
    figures: Figures;
}

/** Deploys `count` services of `variant` and times the first `up` and a no-change `preview`; the objects stay. */
async function measure(world: World, variant: Variant, count: number): Promise<Measured> {
    const stack = await stackOf(world, scratchProject(world, `bench-${variant}-${count}`), "bench", {
        program: () => {
            registerServices(variant, count);
            return Promise.resolve(undefined);
        },
    });
    const { result, peakMiB } = await withPeakMemory(["pulumi", "pulumi-resource-kubernetes"], async () => ({
        up: await timed(() => stack.up()),
        preview: await timed(() => stack.preview({ expectNoChanges: true })),
    }));
    return { stack, figures: { ...result, engineMiB: peakMiB[0] ?? 0, providerMiB: peakMiB[1] ?? 0 } };
}

/**
 * Deletes a variant's objects through the API and forgets its stack. One by one: a collection DELETE of
 * 1,000 Knative Services outlasts the client's timeout. The next variant starts once Knative's controller
 * has finished the deletion (the revisions' Deployments go last), so that its `up` does not wait behind it.
 */
async function remove(world: World, { stack }: Measured, variant: Variant, count: number): Promise<void> {
    for (const path of [
        `/apis/serving.knative.dev/v1/namespaces/${NAMESPACE}/services`,
        `/apis/sources.knative.dev/v1/namespaces/${NAMESPACE}/pingsources`,
    ]) {
        const { items } = await world.kube<{ items: { metadata: { name: string } }[] }>("GET", path);
        for (const item of items) await world.kube("DELETE", `${path}/${item.metadata.name}`);
    }
    await eventually(
        `Knative has removed the ${variant} variant's ${String(count)} services`,
        async () =>
            (
                await world.kube<{ items: unknown[] }>(
                    "GET",
                    `/apis/apps/v1/namespaces/${NAMESPACE}/deployments?${REVISIONS}`,
                )
            ).items.length === 0,
        30,
    );
    await stack.workspace.removeStack(stack.name, { force: true });
}

const world = await startWorld();
try {
    // The dev platform's namespaces and Knative Serving, whose controller reports each service Ready.
    await deployPlatformStandIn(world);
    const cpu = cpus()[0]?.model ?? "unknown CPU";
    const pieces = toolchain("engine");
    const engine = execFileSync(pieces.pulumi, ["version"], { encoding: "utf8" }).trim();
    console.log(
        `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ` +
            `Pulumi ${engine}, Kubernetes provider ${pieces.kubernetesProviderVersion}\n`,
    );
    console.log("services | variant   | up s   | no-change preview s | engine MiB | provider MiB");
    console.log("-------- | --------- | ------ | ------------------- | ---------- | ------------");
    for (const count of sizes) {
        const figures: Partial<Record<Variant, Figures>> = {};
        for (const variant of VARIANTS) {
            const measured = await measure(world, variant, count);
            const f = measured.figures;
            figures[variant] = f;
            console.log(
                [
                    String(count).padStart(8),
                    variant.padEnd(9),
                    f.up.toFixed(1).padStart(6),
                    f.preview.toFixed(1).padStart(19),
                    f.engineMiB.toFixed(0).padStart(10),
                    f.providerMiB.toFixed(0).padStart(12),
                ].join(" | "),
            );
            await remove(world, measured, variant, count);
        }
        const { component, raw } = figures as Record<Variant, Figures>;
        console.log(
            `${String(count).padStart(8)} | ratio     | ${(component.up / raw.up).toFixed(2).padStart(5)}x | ${(component.preview / raw.preview).toFixed(2).padStart(18)}x |`,
        );
    }
} finally {
    await world.stop();
}
