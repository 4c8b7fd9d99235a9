import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { DEFAULT_KNATIVE, KNATIVE_MINORS, KNATIVE_RELEASES, VERSIONS } from "../components/platform/versions.ts";

/** toolchain/versions.env as the shell reads it: `KEY=value` lines, comments and quotes aside. */
function toolchainVersions(): Record<string, string> {
    const text = readFileSync(new URL("../toolchain/versions.env", import.meta.url), "utf8");
    return Object.fromEntries(
        text
            .split("\n")
            .filter((line) => /^[A-Z_]+=/.test(line))
            .map((line) => {
                const [key = "", value = ""] = line.split(/=(.*)/);
                return [key, value.replace(/^"|"$/g, "")];
            }),
    );
}

describe("the versions the toolchain builds agree with the ones the platform installs", () => {
    const env = toolchainVersions();

    test("Knative's control plane is built from the Go module of the release a stack installs by default", () => {
        expect(env.KNATIVE_SERVING_MODULE_VERSION).toBe(KNATIVE_RELEASES[DEFAULT_KNATIVE].servingModule);
        // Only that release names a module: the toolchain builds one.
        expect(KNATIVE_MINORS.filter((minor) => KNATIVE_RELEASES[minor].servingModule !== undefined)).toEqual([
            DEFAULT_KNATIVE,
        ]);
    });

    test("ECK's operator is built at the chart's version", () => {
        expect(env.ECK_MODULE_VERSION).toBe(`v${VERSIONS.eckOperator}`);
    });

    test("the default Knative is the newest release, and each needs a Kubernetes the simulated cluster runs", () => {
        expect(KNATIVE_MINORS.at(-1)).toBe(DEFAULT_KNATIVE);
        const simulated = env.KUBERNETES_VERSION?.replace(/^v(\d+\.\d+).*/, "$1") ?? "";
        for (const minor of KNATIVE_MINORS) {
            const [major = 0, least = 0] = KNATIVE_RELEASES[minor].minimumKubernetes.split(".").map(Number);
            const [runMajor = 0, runMinor = 0] = simulated.split(".").map(Number);
            expect(runMajor * 100 + runMinor, minor).toBeGreaterThanOrEqual(major * 100 + least);
        }
    });
});
