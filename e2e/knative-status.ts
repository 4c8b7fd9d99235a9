/**
 * A stand-in for the one part of Knative's controller that the app-stack tests need and this
 * machine cannot run (Knative's controller needs its networking layer; no container runs here):
 * it reports each Knative Service Ready the way Knative's status reads once a revision is ready:
 * the generation observed, the Ready, ConfigurationsReady and RoutesReady conditions, the latest
 * revision, the URL and address, and the traffic with each tag's URL (hosts from Knative's default
 * templates: `<name>.<namespace>.<domain>` and `<tag>-<name>.<namespace>.<domain>`, with
 * `svc.cluster.local` for cluster-local services and Knative's default `example.com` otherwise).
 *
 * The tests never assert these values: they assert that what the component outputs equals what
 * the API server holds, i.e. that `pulumi up` waited for readiness and read the status back.
 */
import type { World } from "./world.ts";

const SERVICES = "/apis/serving.knative.dev/v1/services";

interface KnativeServiceObject {
    metadata: { name: string; namespace: string; generation: number; labels?: Record<string, string> };
    spec: {
        template?: { metadata?: { name?: string } };
        traffic?: { revisionName?: string; latestRevision?: boolean; percent?: number; tag?: string }[];
    };
    status?: { observedGeneration?: number };
}

function readyStatus(service: KnativeServiceObject) {
    const { name, namespace, generation } = service.metadata;
    const clusterLocal = service.metadata.labels?.["networking.knative.dev/visibility"] === "cluster-local";
    const host = (tag?: string) =>
        `${tag === undefined ? name : `${tag}-${name}`}.${namespace}.${clusterLocal ? "svc.cluster.local" : "example.com"}`;
    const latest = service.spec.template?.metadata?.name ?? `${name}-${String(generation).padStart(5, "0")}`;
    const now = new Date().toISOString();
    return {
        observedGeneration: generation,
        conditions: ["ConfigurationsReady", "Ready", "RoutesReady"].map((type) => ({
            type,
            status: "True",
            lastTransitionTime: now,
        })),
        latestCreatedRevisionName: latest,
        latestReadyRevisionName: latest,
        url: `http://${host()}`,
        address: { url: `http://${name}.${namespace}.svc.cluster.local` },
        traffic: (service.spec.traffic ?? [{ latestRevision: true, percent: 100 }]).map((target) => ({
            revisionName: target.latestRevision === true ? latest : target.revisionName,
            latestRevision: target.latestRevision === true,
            percent: target.percent,
            ...(target.tag !== undefined ? { tag: target.tag, url: `http://${host(target.tag)}` } : {}),
        })),
    };
}

/** Starts marking Knative Services ready as their generations change; `stop()` ends it. */
export function startKnativeStatusStandIn(world: World): { stop(): Promise<void> } {
    const state = { running: true };
    const loop = (async () => {
        while (state.running) {
            const list = (await world.kube("GET", SERVICES).catch(() => ({ items: [] }))) as {
                items: KnativeServiceObject[];
            };
            for (const service of list.items) {
                if (service.status?.observedGeneration === service.metadata.generation) continue;
                const { name, namespace } = service.metadata;
                await world
                    .kube(
                        "PATCH",
                        `/apis/serving.knative.dev/v1/namespaces/${namespace}/services/${name}/status`,
                        { status: readyStatus(service) },
                        "application/merge-patch+json",
                    )
                    .catch(() => undefined); // Deleted meanwhile: the next pass sees the new list.
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
        }
    })();
    return {
        stop: async () => {
            state.running = false;
            await loop;
        },
    };
}
