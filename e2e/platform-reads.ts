/** What the platform's end-to-end tests read back from the simulated cluster, beside the engine's own report. */
import type { V1ObjectMeta, V1PersistentVolumeClaimList, V1PodTemplateSpec } from "@kubernetes/client-node";
import type { AppliedObject } from "./leftovers.ts";
import type { World } from "./world.ts";

/** Every Secret a pod template in the cluster mounts or reads an env var from, as "namespace/name". */
export async function secretsReadByPods(world: World): Promise<Set<string>> {
    const read = new Set<string>();
    for (const kind of ["deployments", "daemonsets", "statefulsets"]) {
        const workloads = await world.kube<{
            items: { metadata: V1ObjectMeta; spec: { template: V1PodTemplateSpec } }[];
        }>("GET", `/apis/apps/v1/${kind}`);
        for (const item of workloads.items) {
            const pod = item.spec.template.spec;
            const namespace = item.metadata.namespace ?? "";
            if (pod === undefined) continue;
            for (const volume of pod.volumes ?? []) {
                if (volume.secret?.optional !== true && volume.secret?.secretName)
                    read.add(`${namespace}/${volume.secret.secretName}`);
            }
            for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
                for (const env of container.env ?? []) {
                    const ref = env.valueFrom?.secretKeyRef;
                    if (ref && ref.optional !== true) read.add(`${namespace}/${ref.name}`);
                }
            }
        }
    }
    return read;
}

/**
 * The cluster's objects that two of the stack's resources apply, patches aside ("group/Kind namespace/name"; one
 * object may be served at several versions). Under the stack's one field manager each would take the other's
 * fields away at every run.
 */
export function appliedTwice(objects: AppliedObject[]): string[] {
    const counts = new Map<string, number>();
    for (const { apiVersion, kind, namespace, name } of objects) {
        const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "core";
        const object = `${group}/${kind} ${namespace ?? ""}/${name}`;
        counts.set(object, (counts.get(object) ?? 0) + 1);
    }
    return [...counts].filter(([, count]) => count > 1).map(([object]) => object);
}

/** Where the logs' Elasticsearch lives in the API. */
export const LOGS_ELASTICSEARCH = "/apis/elasticsearch.k8s.elastic.co/v1/namespaces/monitoring/elasticsearches/logs";

/**
 * The objects that hold data, by UID (a deleted and remade object has a new one): the logs'
 * Elasticsearch, the monitoring namespace and every volume claim in it, and the app namespaces.
 */
export async function dataHeld(world: World, appNamespaces: string[]): Promise<Record<string, string>> {
    const uid = async (path: string) => (await world.kube<{ metadata: V1ObjectMeta }>("GET", path)).metadata.uid ?? "";
    const held: Record<string, string> = {
        "Elasticsearch monitoring/logs": await uid(LOGS_ELASTICSEARCH),
        "Namespace monitoring": await uid("/api/v1/namespaces/monitoring"),
    };
    for (const namespace of appNamespaces)
        held[`Namespace ${namespace}`] = await uid(`/api/v1/namespaces/${namespace}`);
    const claims = await world.kube<V1PersistentVolumeClaimList>(
        "GET",
        "/api/v1/namespaces/monitoring/persistentvolumeclaims",
    );
    for (const claim of claims.items) {
        held[`PersistentVolumeClaim monitoring/${claim.metadata?.name ?? ""}`] = claim.metadata?.uid ?? "";
    }
    return held;
}
