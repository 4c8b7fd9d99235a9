/**
 * What a stack applied, read from its own state, and which of those objects the cluster still holds: how
 * a destroy test proves that nothing of a stack stays but what it lets go of on purpose.
 */
import type * as automation from "@pulumi/pulumi/automation/index.js";
import type { World } from "./world.ts";

/** One Kubernetes object a stack applied, as its state records it. */
export interface AppliedObject {
    apiVersion: string;
    kind: string;
    namespace?: string;
    name: string;
    /** Let go of rather than deleted (`retainOnDelete`). */
    retained: boolean;
}

interface StateResource {
    type: string;
    custom?: boolean;
    retainOnDelete?: boolean;
    outputs?: {
        apiVersion?: string;
        kind?: string;
        metadata?: { name?: string; namespace?: string };
        /** A CrdSet's CRDs, by name. */
        crds?: Record<string, string>;
    };
}

/** The state's type of a CrdSet (components/platform/crds.ts): CRDs it applied and lets go of on delete. */
export const CRD_SET_TYPE = "pulumi-nodejs:dynamic/crds:CrdSet";

/**
 * Every object the stack's state says it applied. Patches (`…Patch` types) are left out: they own fields
 * of objects that others apply, and a destroy takes back only their fields.
 */
export async function appliedObjects(stack: automation.Stack): Promise<AppliedObject[]> {
    const { deployment } = await stack.exportStack();
    return ((deployment.resources ?? []) as StateResource[]).flatMap((resource): AppliedObject[] => {
        if (resource.type === CRD_SET_TYPE) {
            return Object.keys(resource.outputs?.crds ?? {}).map((name) => ({
                apiVersion: "apiextensions.k8s.io/v1",
                kind: "CustomResourceDefinition",
                name,
                retained: true,
            }));
        }
        const { apiVersion, kind, metadata } = resource.outputs ?? {};
        const isObject = resource.custom === true && resource.type.startsWith("kubernetes:");
        if (!isObject || resource.type.endsWith("Patch") || !apiVersion || !kind || !metadata?.name) return [];
        return [
            {
                apiVersion,
                kind,
                ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
                name: metadata.name,
                retained: resource.retainOnDelete === true,
            },
        ];
    });
}

/** "Kind namespace/name", as the tests name an object. */
export function described(object: Pick<AppliedObject, "kind" | "namespace" | "name">): string {
    return `${object.kind} ${object.namespace === undefined ? "" : `${object.namespace}/`}${object.name}`;
}

interface ApiResourceList {
    resources: { name: string; kind: string; namespaced: boolean }[];
}

/** The objects of `objects` the cluster still holds (an API the cluster no longer serves holds none). */
export async function stillInCluster(world: World, objects: readonly AppliedObject[]): Promise<AppliedObject[]> {
    const discovery = new Map<string, Promise<ApiResourceList | undefined>>();
    const resourcesOf = (apiVersion: string) => {
        const path = apiVersion === "v1" ? "/api/v1" : `/apis/${apiVersion}`;
        if (!discovery.has(apiVersion)) {
            discovery.set(apiVersion, world.kube<ApiResourceList>("GET", path).catch(notFound(undefined)));
        }
        return discovery.get(apiVersion) as Promise<ApiResourceList | undefined>;
    };
    const held = await Promise.all(
        objects.map(async (object) => {
            const list = await resourcesOf(object.apiVersion);
            const resource = list?.resources.find((r) => r.kind === object.kind && !r.name.includes("/"));
            if (resource === undefined) return false;
            const base = object.apiVersion === "v1" ? "/api/v1" : `/apis/${object.apiVersion}`;
            const scope = resource.namespaced ? `/namespaces/${object.namespace ?? "default"}` : "";
            return world
                .kube("GET", `${base}${scope}/${resource.name}/${object.name}`)
                .then(() => true, notFound(false));
        }),
    );
    return objects.filter((_, index) => held[index]);
}

/** Answers `value` for the API server's 404, and rethrows anything else. */
function notFound<T>(value: T): (error: unknown) => T {
    return (error) => {
        if (error instanceof Error && / 404 /.test(error.message)) return value;
        throw error;
    };
}
