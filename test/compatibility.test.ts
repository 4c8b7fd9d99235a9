import { describe, expect, test } from "vitest";
import {
    type ClusterFacts,
    checkCompatibility,
    enforceCompatibility,
    minorOf,
    targetOf,
} from "../components/platform/compatibility.ts";
import platform from "../index.ts";
import { runProgram } from "./harness.ts";
import { TEST_MANIFESTS, stackConfig } from "./stacks.ts";

const DEV = 'Stack "dev" (stacks/Pulumi.dev.yaml)';

/** A 1.34 cluster with `installed` on it. */
function cluster(installed: Partial<ClusterFacts> = {}): ClusterFacts {
    return {
        kubernetes: "1.34",
        installedKnative: undefined,
        installedIstio: undefined,
        installedElasticsearch: undefined,
        storageClasses: { names: [], default: undefined },
        crds: [],
        ...installed,
    };
}

describe("the compatibility matrix", () => {
    test("the pinned releases pass on the Kubernetes the platform runs on; net-istio 1.23's Istio is unchecked", () => {
        const findings = checkCompatibility(
            targetOf("1.23"),
            cluster({ installedKnative: "1.22", installedIstio: "1.29", installedElasticsearch: "8.17" }),
        );
        expect(findings.map((f) => `${f.kind} ${f.rule}`)).toEqual(["unchecked net-istio-istio"]);
        expect(findings[0]?.message).toMatch(
            /^net-istio 1\.23 was read as tested against Istio 1\.29 before its release; whether it tested 1\.30 is in its release notes/,
        );
    });

    test("each Kubernetes range refuses a cluster outside it, naming both versions, the rule and its source", () => {
        const rules = (kubernetes: string) =>
            checkCompatibility(targetOf("1.23"), cluster({ kubernetes }))
                .filter((f) => f.kind === "unsupported")
                .map((f) => f.message);
        expect(rules("1.37")).toEqual([
            "Istio 1.30.8 supports Kubernetes 1.32-1.36; the cluster runs 1.37 (rule istio-kubernetes; source: Istio's supported releases: 1.30 supports Kubernetes 1.32-1.36 (istio.io/latest/docs/releases/supported-releases/))",
            "ECK 3.5.0 supports Kubernetes 1.32-1.36; the cluster runs 1.37 (rule eck-kubernetes; source: ECK's README at each tag, supported versions: 2.16 Kubernetes 1.27-1.31, 3.5 Kubernetes 1.32-1.36 (elastic/cloud-on-k8s))",
        ]);
        expect(rules("1.36")).toEqual([]);
    });

    test("Istio is refused with a net-istio or Kiali that is not tested against it", () => {
        const old = checkCompatibility(targetOf("1.22"), cluster()).find((f) => f.rule === "net-istio-istio");
        expect(old?.kind).toBe("unsupported");
        expect(old?.message).toMatch(
            /^net-istio 1\.22 is tested against Istio 1\.29, not 1\.30\.8 \(rule net-istio-istio; source: /,
        );
        const kiali = checkCompatibility({ ...targetOf("1.23"), istio: "1.31.1" }, cluster()).find(
            (f) => f.rule === "kiali-istio",
        );
        expect(kiali?.message).toMatch(
            /^Kiali 2\.29\.0 is tested against Istio 1\.29, 1\.30, not 1\.31\.1 \(rule kiali-istio; source: kiali\.io prerequisites/,
        );
        const unknown = checkCompatibility({ ...targetOf("1.23"), kiali: "2.40.0" }, cluster()).find(
            (f) => f.rule === "kiali-istio",
        );
        expect(unknown?.kind).toBe("unchecked");
    });

    test("a cluster below Knative's minimum is refused, naming both versions, the rule and its source", () => {
        const findings = checkCompatibility(targetOf("1.23"), cluster({ kubernetes: "1.33" }));
        expect(findings[0]?.message).toBe(
            "Knative 1.23 needs Kubernetes ≥ 1.34; the cluster runs 1.33 (rule knative-kubernetes; source: knative.dev/pkg version/version.go DefaultKubernetesMinVersion (v1.34.0 in knative/serving v0.50.0, Knative 1.23; v1.34.0 for 1.22))",
        );
    });

    test("a Knative upgrade that skips a minor is refused, naming the releases to go through", () => {
        const skip = checkCompatibility(targetOf("1.23"), cluster({ installedKnative: "1.21" }));
        expect(skip.find((f) => f.rule === "knative-one-minor-at-a-time")?.message).toMatch(
            /^Knative 1\.23 cannot be installed over 1\.21: go through 1\.22 first/,
        );
        const down = checkCompatibility(targetOf("1.22"), cluster({ installedKnative: "1.23" }));
        expect(down.find((f) => f.rule === "knative-one-minor-at-a-time")?.message).toMatch(
            /^Knative 1\.22 cannot replace the installed 1\.23: Knative has no downgrade path/,
        );
        for (const installed of [undefined, "1.22", "1.23"]) {
            const ok = checkCompatibility(targetOf("1.23"), cluster({ installedKnative: installed }));
            expect(ok.filter((f) => f.rule === "knative-one-minor-at-a-time")).toEqual([]);
        }
    });

    test("versions are compared by minor, not as text", () => {
        expect(minorOf("v1.34.4")).toBe("1.34");
        const findings = checkCompatibility(targetOf("1.23"), cluster({ kubernetes: "1.100" }));
        expect(findings.filter((f) => f.rule === "knative-kubernetes")).toEqual([]);
    });

    test("refusals come all at once naming the stack and the way out; accepted rules do not refuse", () => {
        const findings = checkCompatibility(
            targetOf("1.23"),
            cluster({ kubernetes: "1.33", installedKnative: "1.21" }),
        );
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

describe("Istio and Elasticsearch upgrades", () => {
    test("Istio moves one minor at a time, never down", () => {
        const rule = (installedIstio: string) =>
            checkCompatibility({ ...targetOf("1.23"), istio: "1.31.1" }, cluster({ installedIstio })).find(
                (f) => f.rule === "istio-one-minor-at-a-time",
            )?.message;
        expect(rule("1.29")).toMatch(/^Istio 1\.31 cannot be installed over 1\.29: go through 1\.30 first/);
        expect(rule("1.30")).toBeUndefined();
        expect(rule("1.32")).toMatch(/^Istio 1\.31 cannot replace the installed 1\.32/);
    });

    test("a major Elasticsearch upgrade is refused until accepted; minors pass", () => {
        const findings = (installedElasticsearch: string) =>
            checkCompatibility(
                { ...targetOf("1.23"), elasticsearch: "9.1.0" },
                cluster({ installedElasticsearch }),
            ).filter((f) => f.rule === "elasticsearch-major-upgrade");
        expect(findings("8.19")[0]?.message).toMatch(
            /^Elasticsearch 9\.1\.0 is a major upgrade of the installed 8\.19: run the Upgrade Assistant from the last minor of 8\.x/,
        );
        expect(findings("9.0")).toEqual([]);
        expect(() => {
            enforceCompatibility(findings("8.19"), ["elasticsearch-major-upgrade"], DEV);
        }).not.toThrow();
    });
});

describe("the program checks the target cluster before registering anything", () => {
    test("an unsupported cluster stops the program with the matrix's message", async () => {
        const registered = await runProgram(
            async () => {
                await expect(
                    platform(() => Promise.resolve(cluster({ installedKnative: "1.21" })), TEST_MANIFESTS),
                ).rejects.toThrow(/go through 1\.22 first/);
            },
            { stack: "dev", config: stackConfig("dev") },
        );
        expect(registered.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });

    test("an unreachable cluster stops the program saying what it could not read and why", async () => {
        await runProgram(
            async () => {
                await expect(
                    platform(() => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6443")), TEST_MANIFESTS),
                ).rejects.toThrow(
                    'Stack "dev" (stacks/Pulumi.dev.yaml): cannot read the versions of the cluster it names, which the compatibility check needs: connect ECONNREFUSED 127.0.0.1:6443',
                );
            },
            { stack: "dev", config: stackConfig("dev") },
        );
    });

    test("an unknown rule in compatibility.accept is a config error", async () => {
        await runProgram(
            async () => {
                await expect(platform(() => Promise.resolve(cluster()), TEST_MANIFESTS)).rejects.toThrow(
                    /compatibility\.accept must be one of .*eck-kubernetes.*\(got "eck"\)/,
                );
            },
            {
                stack: "dev",
                config: { ...stackConfig("dev"), "serverless-platform:compatibility": '{"accept": ["eck"]}' },
            },
        );
    });
});
