import { describe, expect, test } from "vitest";
import { checkCompatibility, enforceCompatibility, minorOf, targetOf } from "../components/compatibility.ts";
import platform from "../index.ts";
import { runProgram } from "./harness.ts";
import { stackConfig } from "./stacks.ts";

const DEV = 'Stack "dev" (stacks/Pulumi.dev.yaml)';

describe("the compatibility matrix", () => {
    test("the pinned releases pass on the Kubernetes the platform runs on, but for the accepted ECK gap", () => {
        const findings = checkCompatibility(targetOf("1.23"), { kubernetes: "1.34", installedKnative: "1.22" });
        expect(findings.map((f) => `${f.kind} ${f.rule}`)).toEqual(["unsupported eck-kubernetes"]);
    });

    test("a cluster below Knative's minimum is refused, naming both versions, the rule and its source", () => {
        const findings = checkCompatibility(targetOf("1.23"), { kubernetes: "1.33", installedKnative: undefined });
        expect(findings[0]?.message).toBe(
            "Knative 1.23 needs Kubernetes ≥ 1.34; the cluster runs 1.33 (rule knative-kubernetes; source: knative.dev/pkg version/version.go DefaultKubernetesMinVersion (v1.34.0 in knative/serving v0.50.0, Knative 1.23; v1.34.0 for 1.22))",
        );
    });

    test("a Knative upgrade that skips a minor is refused, naming the releases to go through", () => {
        const skip = checkCompatibility(targetOf("1.23"), { kubernetes: "1.34", installedKnative: "1.21" });
        expect(skip.find((f) => f.rule === "knative-one-minor-at-a-time")?.message).toMatch(
            /^Knative 1\.23 cannot be installed over 1\.21: go through 1\.22 first/,
        );
        const down = checkCompatibility(targetOf("1.22"), { kubernetes: "1.34", installedKnative: "1.23" });
        expect(down.find((f) => f.rule === "knative-one-minor-at-a-time")?.message).toMatch(
            /^Knative 1\.22 cannot replace the installed 1\.23: Knative has no downgrade path/,
        );
        for (const installed of [undefined, "1.22", "1.23"]) {
            const ok = checkCompatibility(targetOf("1.23"), { kubernetes: "1.34", installedKnative: installed });
            expect(ok.filter((f) => f.rule === "knative-one-minor-at-a-time")).toEqual([]);
        }
    });

    test("versions are compared by minor, not as text", () => {
        expect(minorOf("v1.34.4")).toBe("1.34");
        const findings = checkCompatibility(targetOf("1.23"), { kubernetes: "1.100", installedKnative: undefined });
        expect(findings.filter((f) => f.rule === "knative-kubernetes")).toEqual([]);
    });

    test("refusals come all at once naming the stack and the way out; accepted rules do not refuse", () => {
        const findings = checkCompatibility(targetOf("1.23"), { kubernetes: "1.33", installedKnative: "1.21" });
        expect(() => {
            enforceCompatibility(findings, [], DEV);
        }).toThrow(
            /Stack "dev" \(stacks\/Pulumi\.dev\.yaml\): Knative 1\.23 needs Kubernetes ≥ 1\.34.*To proceed anyway, add "knative-kubernetes" to compatibility\.accept\.\n.*go through 1\.22 first/s,
        );
        expect(() => {
            enforceCompatibility(
                findings,
                ["knative-kubernetes", "knative-one-minor-at-a-time", "eck-kubernetes"],
                DEV,
            );
        }).not.toThrow();
    });
});

describe("the program checks the target cluster before registering anything", () => {
    test("an unsupported cluster stops the program with the matrix's message", async () => {
        const registered = await runProgram(
            async () => {
                await expect(
                    platform(() => Promise.resolve({ kubernetes: "1.34", installedKnative: "1.21" })),
                ).rejects.toThrow(/go through 1\.22 first/);
            },
            { stack: "dev", config: stackConfig("dev") },
        );
        expect(registered.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });

    test("an unknown rule in compatibility.accept is a config error", async () => {
        await runProgram(
            async () => {
                await expect(
                    platform(() => Promise.resolve({ kubernetes: "1.34", installedKnative: undefined })),
                ).rejects.toThrow(/compatibility\.accept must be one of .*eck-kubernetes.*\(got "eck"\)/);
            },
            {
                stack: "dev",
                config: { ...stackConfig("dev"), "serverless-platform:compatibility": '{"accept": ["eck"]}' },
            },
        );
    });
});
