import { readdirSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The end-to-end files in three rounds, one after another. Each round holds one platform environment (a
 * world of upstream's real charts, manifests and controllers, minutes of both cores) and the small files
 * that fit beside it on the second worker: two platform worlds at once on two cores slowed each other
 * several-fold (staging's file took 1,828 s beside prod's interrupted upgrade, about 410 s alone), and still 1.8-fold
 * once the idle clusters stopped loading the machine (dev's and staging's side by side: 1,124 s and 974 s against 596 s
 * and 541 s alone; docs/time.md).
 */
const rounds: { platform: string; beside: string[] }[] = [
    { platform: "prod", beside: ["app-stacks", "app-stack-behaviour", "scheduler"] },
    { platform: "dev", beside: ["faults", "knative-conformance"] },
    { platform: "staging", beside: ["app-stack-faults", "package", "cluster-host", "local-cluster"] },
];
const roundFiles = rounds.map(({ platform, beside }) => [
    `e2e/platform-${platform}.e2e.test.ts`,
    ...beside.map((file) => `e2e/${file}.e2e.test.ts`),
]);
const unplaced = readdirSync(fileURLToPath(new URL("./e2e", import.meta.url)))
    .filter((file) => file.endsWith(".e2e.test.ts"))
    .map((file) => `e2e/${file}`)
    .filter((file) => !roundFiles.flat().includes(file));
if (unplaced.length > 0) throw new Error(`vitest.e2e.config.ts: place ${unplaced.join(", ")} in a round`);

/** Starts each round with its platform file, the long one, so that it never waits for a worker. */
class PlatformFirst extends BaseSequencer {
    override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
        const round = (file: TestSpecification) => file.project.config.sequence.groupOrder;
        const platform = (file: TestSpecification) => Number(basename(file.moduleId).startsWith("platform-"));
        return (await super.sort(files)).toSorted((a, b) => round(a) - round(b) || platform(b) - platform(a));
    }
}

export default defineConfig({
    resolve: {
        // App stacks import the package by name; the tests run its TypeScript source.
        alias: { "serverless-platform": fileURLToPath(new URL("./components/index.ts", import.meta.url)) },
    },
    test: {
        pool: "forks",
        // Each file starts its own simulated cluster; a round's platform file runs beside its small files.
        fileParallelism: true,
        maxWorkers: 2,
        // The toolchain is built once, before any file runs: two files must not build the same piece at once.
        globalSetup: ["e2e/toolchain.setup.ts"],
        hookTimeout: 3_600_000,
        testTimeout: 300_000,
        sequence: { sequencer: PlatformFirst },
        projects: rounds.map(({ platform }, round) => ({
            extends: true,
            test: {
                name: platform,
                include: roundFiles[round],
                sequence: { groupOrder: round },
            },
        })),
    },
});
