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
        // Each file starts its own simulated cluster; two at once would only compete for the two cores.
        fileParallelism: false,
        // The first run builds the toolchain (the Pulumi CLI, the Kubernetes provider, the cluster) from the Go module proxy.
        hookTimeout: 3_600_000,
        testTimeout: 300_000,
    },
});
