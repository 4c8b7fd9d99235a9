import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { crdSetProvider, type CrdSetOutputs } from "../components/platform/crd-set-provider.ts";
import { CRD_BODIES, writeCrdBodies } from "../components/platform/crds.ts";
import { VERSIONS } from "../components/platform/versions.ts";
import { dependsOnNames, find, runProgram } from "./harness.ts";
import platform from "../index.ts";
import { DEPLOY_TIME_CONFIG, FRESH_CLUSTER, STACKS, TEST_MANIFESTS, deployPlatform, stackConfig } from "./stacks.ts";

const CRD_SET = "pulumi-nodejs:dynamic/crds:CrdSet";
const CHART = "kubernetes:helm.sh/v4:Chart";

/** Each chart whose CRDs a CrdSet applies: the set, the chart, and the chart's own switch that leaves them out. */
const CHART_CRDS = [
    {
        set: "istio-crds",
        chart: "istio-base",
        artefact: `istio base ${VERSIONS.istio}`,
        // The mocks' `helm template` renders one CRD and a Deployment per chart (test/harness.ts).
        crds: ["bases.base.example"],
        leftOut: (values: any) => {
            expect(values.base.excludedCRDs).toEqual(["bases.base.example"]);
        },
    },
    {
        set: "monitoring-logs-eck-crds",
        chart: "monitoring-logs-eck-operator",
        artefact: `eck-operator ${VERSIONS.eckOperator}`,
        crds: ["eck-operators.eck-operator.example"],
        leftOut: (values: any) => {
            expect(values.installCRDs).toBe(false);
        },
    },
    {
        set: "monitoring-metrics-prometheus-operator-crds",
        chart: "monitoring-metrics-kube-prometheus-stack",
        artefact: `kube-prometheus-stack ${VERSIONS.kubePrometheusStack}`,
        crds: ["kube-prometheus-stacks.kube-prometheus-stack.example"],
        leftOut: (values: any) => {
            expect(values.crds).toEqual({ enabled: false });
        },
    },
];

describe.each(STACKS)("the charts' CRDs on %s", async (env) => {
    const { resources } = await deployPlatform(env);

    test.each(CHART_CRDS)("$set: the CRDs $chart renders, by name and digest under the stack's field manager", (c) => {
        const set = find(resources, CRD_SET, c.set);
        expect(set.inputs.artefact).toBe(c.artefact);
        expect(Object.keys(set.inputs.crds)).toEqual(c.crds);
        for (const [name, digest] of Object.entries(set.inputs.crds as Record<string, string>)) {
            const [, hex] = /^sha256:([0-9a-f]{64})$/.exec(digest) ?? [];
            const body = readFileSync(join(CRD_BODIES, `${hex}.json`), "utf8");
            expect(JSON.parse(body).metadata.name).toBe(name);
        }
        expect(set.inputs.fieldManager).toBe(`serverless-platform/${env}`);
    });

    test.each(CHART_CRDS)("$set: applied before $chart, which installs none of its own", (c) => {
        const chart = find(resources, CHART, c.chart);
        c.leftOut(chart.inputs.values);
        expect(dependsOnNames(chart)).toContain(c.set);
    });

    test("every set is managed by the stack's own dynamic-resource host, given the cluster's keys and nothing else", () => {
        const hosts = resources.filter((r) => r.type === "pulumi:providers:pulumi-nodejs");
        expect(hosts.map((h) => h.name)).toEqual([`${env}-crds`]);
        expect(hosts[0]?.inputs).toEqual({ "kubernetes:context": DEPLOY_TIME_CONFIG["kubernetes:context"] });
        for (const set of resources.filter((r) => r.type === CRD_SET)) {
            expect(set.provider, set.name).toMatch(new RegExp(`\\$pulumi:providers:pulumi-nodejs::${env}-crds::`));
        }
    });

    test("the provider, as the engine's host loads it, reaches the cluster the stack's config names", async () => {
        const { __provider: code } = find(resources, CRD_SET, "istio-crds").inputs;
        const requireFromString = createRequire(import.meta.url)("require-from-string") as (text: string) => any;
        const provider = requireFromString(code as string).handler() as typeof crdSetProvider;
        // A cluster at a loopback port nothing listens on: the refused connection shows where the provider went.
        const kubeconfig = JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
            users: [{ name: "u", user: { token: "t" } }],
            contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
            "current-context": "x",
        });
        const config = { get: (key: string) => (key === "kubernetes:kubeconfig" ? kubeconfig : undefined) };
        await provider.configure?.({ config } as any);
        await expect(
            provider.read?.("istio base", {
                artefact: "istio base",
                crds: { "a.example.com": "sha256:00" },
                fieldManager: "m",
            }),
        ).rejects.toThrow(/ECONNREFUSED 127\.0\.0\.1:1/);
    });

    test.each(CHART_CRDS)("$set: no schema in the state, only the provider's code, the names and the digests", (c) => {
        const { __provider: code, ...rest } = find(resources, CRD_SET, c.set).inputs;
        expect(typeof code).toBe("string");
        expect((code as string).length).toBeLessThan(16_000);
        // The provider runs alone in the engine's dynamic-provider host: it requires packages, never our files.
        expect(code as string).not.toMatch(/require\("\.{1,2}\//);
        expect(JSON.stringify(rest).length).toBeLessThan(1_000);
    });
});

describe("a preview against a cluster that lacks a chart's CRDs", () => {
    // The provider learns a custom resource's scope from the API server or a CRD among the chart's own objects.
    const chartsIn = async (preview: boolean, clusterCrds: string[]) => {
        const facts = async () => ({ ...(await FRESH_CLUSTER()), crds: clusterCrds });
        const resources = await runProgram(() => platform(facts, TEST_MANIFESTS), {
            stack: "prod",
            config: stackConfig("prod"),
            preview,
        });
        return Object.fromEntries(CHART_CRDS.map((c) => [c.set, find(resources, CHART, c.chart).inputs.values]));
    };
    const allCrds = CHART_CRDS.flatMap((c) => c.crds);

    test("gives each chart its own CRDs, so that the preview can tell its custom resources' scope", async () => {
        const values = await chartsIn(true, []);
        expect(values["istio-crds"].base.excludedCRDs).toEqual([]);
        expect(values["monitoring-logs-eck-crds"].installCRDs).toBe(true);
        expect(values["monitoring-metrics-prometheus-operator-crds"].crds).toEqual({ enabled: true });
    });

    test("decides per chart: one whose CRDs the cluster has renders none", async () => {
        const values = await chartsIn(
            true,
            allCrds.filter((crd) => crd !== "bases.base.example"),
        );
        expect(values["istio-crds"].base.excludedCRDs).toEqual([]);
        expect(values["monitoring-logs-eck-crds"].installCRDs).toBe(false);
        expect(values["monitoring-metrics-prometheus-operator-crds"].crds).toEqual({ enabled: false });
    });

    test("gives them none once the cluster has them, nor in an up, which applies them through the sets first", async () => {
        for (const values of [await chartsIn(true, allCrds), await chartsIn(false, [])]) {
            expect(values["istio-crds"].base.excludedCRDs).toEqual(["bases.base.example"]);
            expect(values["monitoring-logs-eck-crds"].installCRDs).toBe(false);
            expect(values["monitoring-metrics-prometheus-operator-crds"].crds).toEqual({ enabled: false });
        }
    });
});

test("a stack's own base.excludedCRDs stays left out of Istio's base chart, and out of its CrdSet's render", async () => {
    const { resources } = await deployPlatform("dev", {
        "serverless-platform:istio": JSON.stringify({ values: { base: { base: { excludedCRDs: ["x.istio.io"] } } } }),
    });
    const base = find(resources, CHART, "istio-base");
    expect(base.inputs.values.base.excludedCRDs).toEqual(["x.istio.io", "bases.base.example"]);
});

describe("writeCrdBodies", () => {
    const crd = (name: string, version: string) => ({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name },
        spec: { versions: [{ name: version }] },
    });

    test("writes each CRD under the sha256 of its text and names it by that digest", () => {
        const directory = mkdtempSync(join(tmpdir(), "crd-bodies-"));
        const digests = writeCrdBodies([crd("b.example.com", "v1"), crd("a.example.com", "v1")], directory);
        expect(Object.keys(digests)).toEqual(["a.example.com", "b.example.com"]);
        for (const digest of Object.values(digests)) {
            const text = readFileSync(join(directory, `${digest.slice("sha256:".length)}.json`), "utf8");
            expect(`sha256:${createHash("sha256").update(text).digest("hex")}`).toBe(digest);
        }
    });

    test("gives a changed CRD a new digest and leaves the others'", () => {
        const directory = mkdtempSync(join(tmpdir(), "crd-bodies-"));
        const before = writeCrdBodies([crd("a.example.com", "v1"), crd("b.example.com", "v1")], directory);
        const after = writeCrdBodies([crd("a.example.com", "v1"), crd("b.example.com", "v2")], directory);
        expect(after["a.example.com"]).toBe(before["a.example.com"]);
        expect(after["b.example.com"]).not.toBe(before["b.example.com"]);
    });

    test("refuses a CRD without a name", () => {
        expect(() => writeCrdBodies([{ kind: "CustomResourceDefinition", metadata: {} }])).toThrow(
            "a CustomResourceDefinition without metadata.name",
        );
    });
});

describe("a CrdSet's apply", () => {
    const directory = mkdtempSync(join(tmpdir(), "crd-bodies-"));
    const text = JSON.stringify({ kind: "CustomResourceDefinition", metadata: { name: "a.example.com" } });
    const hex = createHash("sha256").update(text).digest("hex");
    const inputs = {
        artefact: "chart 1.0.0",
        crds: { "a.example.com": `sha256:${hex}` },
        fieldManager: "serverless-platform/dev",
        bodies: directory,
    };

    // Both are refused before any request: neither needs a cluster.
    test("refuses a CRD whose manifest the program did not write, naming it and where it looked", async () => {
        await expect(crdSetProvider.create(inputs)).rejects.toThrow(
            `chart 1.0.0: no manifest for CRD a.example.com at ${join(directory, `${hex}.json`)} (the program writes it)`,
        );
    });

    test("refuses a manifest that is not the one its digest names", async () => {
        writeFileSync(join(directory, `${hex}.json`), text.replace("a.example.com", "b.example.com"));
        await expect(crdSetProvider.create(inputs)).rejects.toThrow(
            `chart 1.0.0: ${join(directory, `${hex}.json`)} is not the manifest of CRD a.example.com (sha256:${hex})`,
        );
    });
});

describe("a CrdSet's apply, on an API server that serves a new CRD a moment after it is applied", () => {
    const name = "widgets.example.com";
    const text = JSON.stringify({ kind: "CustomResourceDefinition", metadata: { name } });
    const hex = createHash("sha256").update(text).digest("hex");
    const directory = mkdtempSync(join(tmpdir(), "crd-bodies-"));
    writeFileSync(join(directory, `${hex}.json`), text);
    const requests: string[] = [];
    const counts = new Map<string, number>();
    /** The second read of a path sees the CRD served: Established first, then listed by discovery. */
    function answer(method: string, path: string): object {
        requests.push(`${method} ${path}`);
        if (method === "PATCH") return {};
        const seen = (counts.get(path) ?? 0) + 1;
        counts.set(path, seen);
        if (path === "/apis/example.com/v1") return { resources: seen < 2 ? [] : [{ name: "widgets" }] };
        return {
            spec: { group: "example.com", names: { plural: "widgets" }, versions: [{ name: "v1", served: true }] },
            status: { conditions: [{ type: "Established", status: seen < 2 ? "False" : "True" }] },
        };
    }
    const server = createServer((request, response) => {
        const path = new URL(request.url ?? "/", "http://localhost").pathname;
        const body = JSON.stringify(answer(request.method ?? "", path));
        response.writeHead(200, { "content-type": "application/json" });
        response.end(body);
    });

    test("waits until the CRD is Established and discovery lists its kind, where the Kubernetes provider reads scope", async () => {
        await new Promise<void>((resolve) => {
            server.listen(0, "127.0.0.1", resolve);
        });
        const { port } = server.address() as AddressInfo;
        const kubeconfig = JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [
                { name: "c", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } },
            ],
            users: [{ name: "u", user: {} }],
            contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
            "current-context": "c",
        });
        const config = { get: (key: string) => (key === "kubernetes:kubeconfig" ? kubeconfig : undefined) };
        await crdSetProvider.configure?.({ config } as any);
        const inputs = {
            artefact: "chart 1.0.0",
            crds: { [name]: `sha256:${hex}` },
            fieldManager: "serverless-platform/dev",
            bodies: directory,
        };
        await crdSetProvider.create(inputs);
        server.close();
        const crd = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`;
        expect(requests).toEqual([
            `PATCH ${crd}`,
            `GET ${crd}`,
            `GET ${crd}`,
            "GET /apis/example.com/v1",
            "GET /apis/example.com/v1",
        ]);
    });
});

describe("a CrdSet's diff", () => {
    const recorded: CrdSetOutputs = {
        artefact: "chart 1.0.0",
        crds: { "a.example.com": "sha256:aa", "b.example.com": "sha256:bb" },
        fieldManager: "serverless-platform/dev",
    };
    const diff = (news: Partial<CrdSetOutputs> & { bodies?: string; cluster?: object }) =>
        crdSetProvider.diff?.("chart 1.0.0", recorded, {
            ...recorded,
            bodies: "/tmp/serverless-platform-crds",
            cluster: { context: "dev" },
            ...news,
        });

    test("sees a changed, added or dropped CRD, a new artefact version and a new owner", async () => {
        expect(await diff({ crds: { ...recorded.crds, "b.example.com": "sha256:cc" } })).toEqual({ changes: true });
        expect(await diff({ crds: { ...recorded.crds, "c.example.com": "sha256:cc" } })).toEqual({ changes: true });
        expect(await diff({ crds: { "a.example.com": "sha256:aa" } })).toEqual({ changes: true });
        expect(await diff({ artefact: "chart 1.1.0" })).toEqual({ changes: true });
        expect(await diff({ fieldManager: "serverless-platform/prod" })).toEqual({ changes: true });
    });

    test("ignores where the bodies are and how the cluster is reached, which differ between machines", async () => {
        expect(await diff({ bodies: "/var/tmp/elsewhere", cluster: { kubeconfig: "apiVersion: v1" } })).toEqual({
            changes: false,
        });
    });
});
