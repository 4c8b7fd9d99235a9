import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
    resolve: {
        // Examples import the package by name, as app stacks do; tests run its TypeScript source.
        alias: { "serverless-platform": fileURLToPath(new URL("./components/index.ts", import.meta.url)) },
    },
    test: {
        include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
        // Pulumi's mocks are process-wide state: each test file runs in its own process.
        pool: "forks",
        isolate: true,
        testTimeout: 30_000,
        setupFiles: ["test/no-network.ts"],
    },
});
