/**
 * Every values key the platform hands a Helm chart exists in that chart, at the pinned version.
 * Helm ignores an unknown key without a word: a renamed or moved key (Istio's istiod chart reads
 * `replicaCount` at the top level since 1.24, not under `pilot`) would leave a setting unapplied
 * while every other test passes. The keys each chart defines are read from its own values.yaml
 * at the pinned version (test/chart-values/, written by scripts/chart-values-keys.ts, each file
 * naming its source); bumping a chart means re-reading them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import type { KeyTree } from "../scripts/chart-values-keys.ts";
import { ofType } from "./harness.ts";
import { STACKS, deployPlatform } from "./stacks.ts";

interface ChartKeys {
    chart: string;
    version: string;
    source: string;
    keys: KeyTree;
}

const INVENTORY_DIR = new URL("./chart-values/", import.meta.url);
const INVENTORIES: ChartKeys[] = readdirSync(INVENTORY_DIR).map(
    (file) => JSON.parse(readFileSync(new URL(file, INVENTORY_DIR), "utf8")) as ChartKeys,
);

/** The fields of Kubernetes' PodSecurityContext and SecurityContext (core/v1), which charts pass through whole. */
const SECURITY_CONTEXT = [
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "capabilities",
    "fsGroup",
    "fsGroupChangePolicy",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "runAsGroup",
    "runAsNonRoot",
    "runAsUser",
    "seLinuxChangePolicy",
    "seLinuxOptions",
    "seccompProfile",
    "supplementalGroups",
    "supplementalGroupsPolicy",
    "sysctls",
    "windowsOptions",
];

/**
 * Keys whose value is an API type: a chart's default shows part of it, the API defines the rest.
 * Kubernetes' resource requirements (defaults often show `requests` only) and security contexts, and
 * Istio's MeshConfig (istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/), which istiod reads whole.
 */
const API_TYPED: Record<string, readonly string[] | "any"> = {
    resources: ["requests", "limits", "claims"],
    securityContext: SECURITY_CONTEXT,
    podSecurityContext: SECURITY_CONTEXT,
    containerSecurityContext: SECURITY_CONTEXT,
    meshConfig: "any",
};

/** The paths in `values` that the chart's keys do not define. */
export function unknownKeys(values: unknown, keys: KeyTree | "=" | "*", path: string[] = []): string[] {
    if (keys === "*" || keys === "=" || typeof values !== "object" || values === null || Array.isArray(values)) {
        return [];
    }
    const typed = API_TYPED[path.at(-1) ?? ""];
    if (typed === "any") return [];
    return Object.entries(values).flatMap(([key, inner]) => {
        if (typed?.includes(key)) return [];
        const known = keys[key];
        return known === undefined ? [[...path, key].join(".")] : unknownKeys(inner, known, [...path, key]);
    });
}

describe("unknownKeys", () => {
    const keys: KeyTree = { replicaCount: "=", resources: { requests: { cpu: "=" } }, podAnnotations: "*" };

    test("names a key the chart does not define, with its path", () => {
        expect(unknownKeys({ pilot: { replicaCount: 2 }, replicaCount: 2 }, keys)).toEqual(["pilot"]);
    });

    test("accepts anything under a free-form key and the Kubernetes fields of a typed one", () => {
        expect(
            unknownKeys(
                { podAnnotations: { a: "b" }, resources: { limits: { memory: "1Gi" }, requests: { cpu: "1" } } },
                keys,
            ),
        ).toEqual([]);
    });
});

describe.each(STACKS)("the %s platform's charts", async (env) => {
    const { resources } = await deployPlatform(env);
    const charts = ofType(resources, "kubernetes:helm.sh/v4:Chart");

    test.each(charts.map((chart) => [chart.name, chart] as const))(
        "%s sets only keys its chart defines",
        (_, chart) => {
            const inventory = INVENTORIES.find((i) => i.chart === chart.inputs.chart);
            expect(
                inventory,
                `no key inventory for chart ${String(chart.inputs.chart)} in test/chart-values`,
            ).toBeDefined();
            // A bump re-reads the chart's keys: the inventory vouches for one version only.
            expect(inventory?.version).toBe(chart.inputs.version);
            expect(unknownKeys(chart.inputs.values ?? {}, inventory?.keys ?? {})).toEqual([]);
        },
    );
});
