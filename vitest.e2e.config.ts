import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["e2e/**/*.e2e.test.ts"],
        pool: "forks",
        // The first run builds etcd and kube-apiserver from the Go module proxy.
        hookTimeout: 1_800_000,
        testTimeout: 120_000,
    },
});
