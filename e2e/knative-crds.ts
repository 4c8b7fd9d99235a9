/**
 * Knative's API types on the simulated cluster, as CRDs that store any object (with a status
 * subresource): the API server serves, stores, versions and garbage-collects them as it would
 * Knative's own. They do not validate like Knative's webhook: that is Knative's own code's job.
 */
import { crd } from "./mirror/objects.ts";
import type { World } from "./world.ts";

const KINDS = [
    ["serving.knative.dev", "Service", "services"],
    ["serving.knative.dev", "Revision", "revisions"],
    ["serving.knative.dev", "Configuration", "configurations"],
    ["serving.knative.dev", "Route", "routes"],
    ["sources.knative.dev", "PingSource", "pingsources"],
    ["sources.knative.dev", "KafkaSource", "kafkasources"],
    ["eventing.knative.dev", "Broker", "brokers"],
    ["eventing.knative.dev", "Trigger", "triggers"],
] as const;

/** Installs the CRDs and returns once the API server serves every one of them. */
export async function installKnativeCrds(world: World): Promise<void> {
    for (const [group, kind, plural] of KINDS) {
        await world.kube(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            crd(group, kind, plural, ["v1"]),
        );
    }
    for (const [group, , plural] of KINDS) {
        for (let attempt = 0; ; attempt++) {
            const list = await world.kube("GET", `/apis/${group}/v1/${plural}`).catch(() => undefined);
            if (list !== undefined) break;
            if (attempt === 120) throw new Error(`the API server does not serve ${plural}.${group}`);
            await new Promise((resolve) => setTimeout(resolve, 250));
        }
    }
}
