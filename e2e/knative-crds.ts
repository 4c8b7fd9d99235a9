/**
 * Knative's API types on the simulated cluster, as upstream ships them: the CustomResourceDefinitions
 * of the pinned release's real manifests (Serving's and Eventing's cores, eventing-kafka-broker's
 * controller), read from the upstream mirror. The API server serves, stores, prunes and validates
 * against their schemas as a real cluster does; what Knative's webhooks check is their own code's job.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { DEFAULT_KNATIVE, KNATIVE_RELEASES, knativeManifests, manifestUrl } from "../components/platform/versions.ts";
import { UPSTREAM_MIRROR } from "./mirror/index.ts";
import type { World } from "./world.ts";

interface CustomResourceDefinition {
    kind: "CustomResourceDefinition";
    metadata: { name: string };
    spec: { group: string; names: { plural: string }; versions: { name: string; storage: boolean }[] };
}

/** The manifests that define Knative's API types. */
type ApiManifest = "servingCore" | "eventingCore" | "kafkaController";

/** The CRDs of these manifests of the pinned release. */
function knativeCrds(which: ApiManifest[]): CustomResourceDefinition[] {
    const manifests = knativeManifests(KNATIVE_RELEASES[DEFAULT_KNATIVE]);
    return which
        .map((name) => manifests[name])
        .flatMap((manifest) =>
            parseAllDocuments(readFileSync(manifestUrl(join(UPSTREAM_MIRROR, "knative"), manifest), "utf8"))
                .map((document) => document.toJS() as { kind?: string } | null)
                .filter((object): object is CustomResourceDefinition => object?.kind === "CustomResourceDefinition"),
        );
}

/** Installs the CRDs of these manifests and returns once the API server serves every one of them. */
export async function installKnativeCrds(world: World, which: ApiManifest[]): Promise<void> {
    const crds = knativeCrds(which);
    for (const crd of crds) {
        await world.kube("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
    }
    for (const { metadata, spec } of crds) {
        const storage = spec.versions.find((version) => version.storage)?.name;
        for (let attempt = 0; ; attempt++) {
            const list = await world
                .kube("GET", `/apis/${spec.group}/${String(storage)}/${spec.names.plural}`)
                .catch(() => undefined);
            if (list !== undefined) break;
            if (attempt === 120) throw new Error(`the API server does not serve ${metadata.name}`);
            await new Promise((resolve) => setTimeout(resolve, 250));
        }
    }
}
