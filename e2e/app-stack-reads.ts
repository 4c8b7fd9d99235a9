/** What the app stacks left: the objects Knative made of them, read back from the API server, and the inputs the engine recorded. */
import type { V1Deployment, V1ObjectMeta } from "@kubernetes/client-node";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { type World, eventually } from "./world.ts";

/** A list of Knative objects, read for their specs. */
export interface KnativeList {
    items: { metadata?: V1ObjectMeta; spec?: unknown }[];
}

export const SERVING = "/apis/serving.knative.dev/v1";

/** A Revision, and the objects Knative's controller and autoscaler derive from it. */
export interface Derived {
    revision: { metadata: { name: string; annotations: Record<string, string> } };
    podAutoscaler: {
        metadata: { annotations: Record<string, string> };
        spec: { containerConcurrency?: number; reachability?: string };
        status?: { desiredScale?: number };
    };
    deployment: V1Deployment;
}

/** What Knative made of one revision of a Service: read from the API server, as its controllers left them. */
export async function knativeMade(world: World, namespace: string, revision: string): Promise<Derived> {
    const read = <T>(path: string) => world.kube<T>("GET", path);
    return {
        revision: await read(`${SERVING}/namespaces/${namespace}/revisions/${revision}`),
        podAutoscaler: await read(
            `/apis/autoscaling.internal.knative.dev/v1alpha1/namespaces/${namespace}/podautoscalers/${revision}`,
        ),
        deployment: await read(`/apis/apps/v1/namespaces/${namespace}/deployments/${revision}-deployment`),
    };
}

/** Waits until Knative's autoscaler has set the revision's Deployment to `replicas`. */
export async function scaledTo(
    world: World,
    namespace: string,
    revision: string,
    replicas: number,
    minutes = 3,
): Promise<void> {
    await eventually(
        `Knative scales ${namespace}/${revision} to ${String(replicas)}`,
        async () => (await knativeMade(world, namespace, revision)).deployment.spec?.replicas === replicas,
        minutes,
    );
}

/** The inputs the engine recorded for one resource of a stack (what Pulumi sent to the API server). */
export async function recordedInputs(stack: automation.Stack, type: string, name: string): Promise<any> {
    const { deployment } = await stack.exportStack();
    const resource = (deployment.resources as any[]).find(
        (r) => r.type === type && String(r.urn).endsWith(`::${name}`),
    );
    if (resource === undefined) throw new Error(`the stack's state has no ${type} ${name}`);
    return resource.inputs;
}

/** Every Knative Service and Revision in the app namespaces, by "kind namespace/name", with its UID. */
export async function appTeamsKnativeObjects(world: World): Promise<Record<string, string>> {
    const found: Record<string, string> = {};
    for (const namespace of ["games-web", "games-batch"]) {
        for (const kind of ["services", "revisions"]) {
            const list = await world.kube<KnativeList>("GET", `${SERVING}/namespaces/${namespace}/${kind}`);
            for (const item of list.items)
                found[`${kind} ${namespace}/${item.metadata?.name ?? ""}`] = item.metadata?.uid ?? "";
        }
    }
    return found;
}
