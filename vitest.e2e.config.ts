import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
    resolve: {
        // App stacks import the package by name; the tests run its TypeScript source.
        alias: { "serverless-platform": fileURLToPath(new URL("./components/index.ts", import.meta.url)) },
    },
    test: {
        include: ["e2e/**/*.e2e.test.ts"],
        pool: "forks",
        // Each file starts its own simulated cluster. The platform's file (three environments on upstream's
        // real charts and manifests) takes most of the run; the small files run beside it on the second worker.
        fileParallelism: true,
        maxWorkers: 2,
        // The toolchain is built once, before any file runs: two files must not build the same piece at once.
        globalSetup: ["e2e/toolchain.setup.ts"],
        hookTimeout: 3_600_000,
        testTimeout: 300_000,
    },
});
