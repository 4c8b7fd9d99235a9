import { defineConfig } from "vitest/config";

export default defineConfig({
    resolve: {
        // Examples import the package by name; tests run its TypeScript source.
        conditions: ["source"],
    },
    test: {
        include: ["test/**/*.test.ts", "examples/**/*.test.ts"],
        // Pulumi's mocks are process-wide state: one file per worker, tests in order.
        pool: "forks",
        isolate: true,
        testTimeout: 30_000,
    },
});
