/**
 * Records which values keys a Helm chart reads, from the chart itself: the keys its values.yaml
 * defines and the `.Values.…` paths its templates use (a chart may read a key it leaves out of
 * values.yaml, such as `fullnameOverride`). A test checks every key the platform sets against it,
 * because Helm ignores an unknown key silently. Run it on the chart's directory at the pinned
 * version (its repository's tag, or `helm pull --untar`), with each subchart under its alias:
 *
 *   node scripts/chart-values-keys.ts --chart kube-prometheus-stack --version 88.5.3 \
 *     --source "prometheus-community/helm-charts@<commit>" charts/kube-prometheus-stack \
 *     --sub grafana=charts/grafana > test/chart-values/kube-prometheus-stack.json
 *
 * `--crd-spec` adds the spec of a custom resource whose fields the chart passes through as
 * values (Kiali's server chart writes its values into Kiali's config, typed by the Kiali CRD).
 *
 * The output is a tree of key names: `"="` marks a value (scalar or list), `"*"` a free-form
 * map (the chart's default is `{}` or null, or the schema allows any field: any key below it is
 * the user's).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { deepMerge } from "../components/platform/helm-values.ts";

export type KeyTree = { [key: string]: KeyTree | "=" | "*" };
type KeyNode = KeyTree | "=" | "*";

/** Istio's charts keep their defaults under this key and read them from the top level. */
const ISTIO_DEFAULTS = "_internal_defaults_do_not_set";

/** The keys a values document defines. */
export function keyTree(values: unknown): KeyNode {
    if (values === null || values === undefined) return "*";
    if (typeof values !== "object" || Array.isArray(values)) return "=";
    const entries = Object.entries(values as Record<string, unknown>);
    if (entries.length === 0) return "*";
    let tree: KeyTree = {};
    for (const [key, value] of entries) {
        const inner = keyTree(value);
        if (key === ISTIO_DEFAULTS && typeof inner === "object") tree = merge(tree, inner);
        else tree[key] = inner;
    }
    return tree;
}

/** The `.Values.a.b` paths a template reads. */
export function templatePaths(template: string): string[][] {
    return [...template.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((m) =>
        (m[1] ?? "").slice(1).split("."),
    );
}

/** Adds a path a template reads: a key that was a value becomes a map when a template reads below it. */
function addPath(tree: KeyTree, path: string[]): void {
    const [key, ...rest] = path;
    if (key === undefined) return;
    const current = tree[key];
    if (rest.length === 0) {
        tree[key] ??= "=";
        return;
    }
    if (current === "*") return;
    const next: KeyTree = typeof current === "object" ? current : {};
    tree[key] = next;
    addPath(next, rest);
}

/** The keys an OpenAPI schema allows. */
export function schemaTree(schema: Record<string, unknown>): KeyNode {
    const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
    if (schema["x-kubernetes-preserve-unknown-fields"] === true || schema.additionalProperties !== undefined) {
        return "*";
    }
    if (schema.type !== "object") return "=";
    if (properties === undefined) return "*";
    return Object.fromEntries(Object.entries(properties).map(([key, inner]) => [key, schemaTree(inner)]));
}

/** `base` with `over`'s keys on top, subtree by subtree: Helm's own merge of values. */
const merge = (base: KeyTree, over: KeyTree): KeyTree => deepMerge(base, over) as KeyTree;

function filesUnder(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name));
}

/** A chart directory's keys: its values.yaml, then what its templates read. */
export function chartKeys(dir: string): KeyTree {
    const fromValues = keyTree(parse(readFileSync(join(dir, "values.yaml"), "utf8")));
    const tree: KeyTree = typeof fromValues === "object" ? fromValues : {};
    for (const file of filesUnder(join(dir, "templates"))) {
        for (const path of templatePaths(readFileSync(file, "utf8"))) addPath(tree, path);
    }
    return tree;
}

/** The part of a CustomResourceDefinition that types its resources' `spec`. */
interface CrdSchema {
    spec?: { versions?: { schema?: { openAPIV3Schema?: { properties?: { spec?: Record<string, unknown> } } } }[] };
}

function crdSpecKeys(file: string): KeyTree {
    const [crd] = parseAllDocuments(readFileSync(file, "utf8")).map((doc) => doc.toJS() as CrdSchema);
    const spec = crd?.spec?.versions?.[0]?.schema?.openAPIV3Schema?.properties?.spec;
    if (spec === undefined) throw new Error(`${file}: the first CRD has no spec schema`);
    const tree = schemaTree(spec);
    if (typeof tree !== "object") throw new Error(`${file}: the first CRD's spec defines no fields`);
    return tree;
}

function main(): void {
    const { values, positionals } = parseArgs({
        options: {
            chart: { type: "string" },
            version: { type: "string" },
            source: { type: "string" },
            sub: { type: "string", multiple: true, default: [] },
            "crd-spec": { type: "string" },
        },
        allowPositionals: true,
    });
    const [dir] = positionals;
    if (values.chart === undefined || values.version === undefined || values.source === undefined || !dir) {
        throw new Error(
            "usage: chart-values-keys.ts --chart NAME --version V --source WHERE CHART_DIR [--sub alias=DIR] [--crd-spec CRD.yaml]",
        );
    }
    let keys = chartKeys(dir);
    for (const sub of values.sub) {
        const [alias, subDir] = sub.split("=");
        if (!alias || !subDir) throw new Error(`--sub wants alias=DIR, not "${sub}"`);
        const parentKeys = keys[alias];
        // The parent's own defaults for its subchart apply on top of the subchart's.
        keys[alias] = merge(chartKeys(subDir), typeof parentKeys === "object" ? parentKeys : {});
    }
    if (values["crd-spec"] !== undefined) keys = merge(crdSpecKeys(values["crd-spec"]), keys);
    const inventory = { chart: values.chart, version: values.version, source: values.source, keys };
    process.stdout.write(`${JSON.stringify(inventory, null, 2)}\n`);
}

if (import.meta.filename === process.argv[1]) main();
