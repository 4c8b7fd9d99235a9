/**
 * Where a secret value can be read in plain text after a run: the state backend's files, the
 * engine's output, and every object of every listable kind in the cluster (a Secret's data decoded).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { World } from "./world.ts";

interface ResourceList {
    groupVersion: string;
    resources: { name: string; kind: string; verbs: string[] }[];
}

/** Every listable kind the API server serves, as list paths with their kind. */
async function listableKinds(world: World): Promise<{ path: string; kind: string }[]> {
    const groups = await world.kube<{ groups: { preferredVersion: { groupVersion: string } }[] }>("GET", "/apis");
    const versions = ["api/v1", ...groups.groups.map((group) => `apis/${group.preferredVersion.groupVersion}`)];
    const kinds: { path: string; kind: string }[] = [];
    for (const version of versions) {
        const list = await world.kube<ResourceList>("GET", `/${version}`);
        for (const resource of list.resources) {
            if (resource.name.includes("/") || !resource.verbs.includes("list")) continue;
            kinds.push({ path: `/${version}/${resource.name}`, kind: resource.kind });
        }
    }
    return kinds;
}

/**
 * Where `value` appears in plain text: "state" (any file of the backend), "engine output", and "<Kind> <namespace>/<name>" for
 * each object holding it (a Secret's data is decoded first).
 */
export async function whereReadable(world: World, engineOutput: string, value: string): Promise<string[]> {
    const found: string[] = [];
    const backend = world.backend.url.slice("file://".length);
    const files = readdirSync(backend, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    if (files.some((file) => readFileSync(join(file.parentPath, file.name)).includes(value))) found.push("state");
    if (engineOutput.includes(value)) found.push("engine output");
    for (const { path, kind } of await listableKinds(world)) {
        const list = await world.kube<{ items?: Record<string, unknown>[] }>("GET", path).catch(() => ({ items: [] }));
        for (const item of list.items ?? []) {
            const data = (item.data ?? {}) as Record<string, string>;
            const decoded =
                kind === "Secret"
                    ? Object.values(data).map((encoded) => Buffer.from(encoded, "base64").toString())
                    : [];
            if (![JSON.stringify(item), ...decoded].some((text) => text.includes(value))) continue;
            const metadata = item.metadata as { name: string; namespace?: string };
            found.push(`${kind} ${metadata.namespace === undefined ? "" : `${metadata.namespace}/`}${metadata.name}`);
        }
    }
    return found.sort();
}
