import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { CrdSet, type RenderedObject, writeContentAddressed } from "./crds.ts";
import { rewriteImageRegistry } from "./helm-values.ts";
import {
    KNATIVE_RELEASE_REGISTRY,
    type KnativeManifest,
    type SourcesArgs,
    manifestUrl,
    sourcesOf,
} from "./versions.ts";

/** Reads a manifest's text from where it is published: a URL, or a path in a mirror directory. */
export type ManifestReader = (location: string) => Promise<string>;

/** What Knative's components take: the sources, and how the manifests are read. */
export interface KnativeSourcesArgs extends SourcesArgs {
    /** How the manifests are read (tests read their own). @default readPublishedManifest: over HTTP(S), or from disk for a path */
    readManifest?: ManifestReader | undefined;
}

/** Where Knative's manifests and images come from. */
export interface ManifestSource {
    /** The releases' base URL (`https://github.com`), or a mirror directory laid out the same way. */
    baseUrl: string;
    /** A mirror registry for Knative's images; unset keeps the upstream one. */
    imageRegistry: string | undefined;
    /** How the manifests are read; by default over HTTP(S), or from disk for a path (tests read their own). */
    read?: ManifestReader | undefined;
}

/** A Knative component's manifest source, from its sources. */
export function manifestSourceOf(args: KnativeSourcesArgs): ManifestSource {
    const sources = sourcesOf(args);
    return {
        baseUrl: sources.knativeManifestBaseUrl,
        imageRegistry: sources.knativeImageRegistry,
        read: args.readManifest,
    };
}

/** Reads over HTTP(S) (redirects followed, as GitHub's release downloads need), or a local path or `file://` URL. */
export const readPublishedManifest: ManifestReader = async (location) => {
    if (!/^https?:\/\//.test(location)) return readFile(location.replace(/^file:\/\//, ""), "utf8");
    const response = await fetch(location);
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    return response.text();
};

/** Where the program writes each manifest without its CRDs, for its ConfigFile: content-addressed, so never stale. */
export const MANIFEST_COPIES = join(tmpdir(), "serverless-platform-manifests");

/**
 * A manifest split in three: its CRDs, the objects it ships of those CRDs' kinds, and a copy of the rest as
 * published (each document's text unchanged).
 */
export interface SplitManifest {
    crds: RenderedObject[];
    /**
     * Objects of the manifest's own CRDs' kinds (Serving's `Certificate` and caching `Image`). A ConfigFile learns
     * each object's scope from its CRD among the file's objects or from the Kubernetes provider's discovery cache,
     * which a CrdSet's apply does not refresh (pulumi-kubernetes#3176), so these are objects of their own.
     */
    ownResources: RenderedObject[];
    /** The copy's path, `<MANIFEST_COPIES>/<sha256 of its text>.yaml`. */
    rest: string;
}

/**
 * Splits a manifest's CRDs from the rest. The rest keeps each document's own text, so the ConfigFile's YAML parser
 * reads exactly what upstream wrote. A manifest whose CRDs disagree with its `crds` flag is refused: the flag is how
 * a preview knows a CrdSet is coming before the manifest is read.
 */
export function splitManifest(text: string, manifest: KnativeManifest, directory = MANIFEST_COPIES): SplitManifest {
    const documents = text.split(/^---[ \t]*(?:#.*)?$/m).flatMap((document) => {
        const object = parse(document) as RenderedObject | null;
        return object === null || typeof object !== "object" ? [] : [{ document, object }];
    });
    const crds = documents.map(({ object }) => object).filter((object) => object.kind === "CustomResourceDefinition");
    const ownKinds = new Set(crds.map(groupKindOfCrd));
    const ownResources: RenderedObject[] = [];
    const rest: string[] = [];
    for (const { document, object } of documents) {
        if (object.kind === "CustomResourceDefinition") continue;
        if (ownKinds.has(groupKindOf(object))) ownResources.push(object);
        else rest.push(document.trim());
    }
    if (manifest.crds !== crds.length > 0) {
        throw new Error(
            `${artefactOf(manifest)} ships ${crds.length} CRDs, but its crds flag in components/platform/versions.ts ` +
                `is ${String(manifest.crds)}: set it to ${String(crds.length > 0)}`,
        );
    }
    const hex = writeContentAddressed(directory, `${rest.join("\n---\n")}\n`, "yaml");
    return { crds, ownResources, rest: join(directory, `${hex}.yaml`) };
}

/** `<group>/<kind>` of the objects a CRD defines. */
function groupKindOfCrd(crd: RenderedObject): string {
    const spec = crd.spec as { group?: string; names?: { kind?: string } } | undefined;
    return `${spec?.group ?? ""}/${spec?.names?.kind ?? ""}`;
}

/** `<group>/<kind>` of an object (the core group is empty). */
function groupKindOf(object: RenderedObject): string {
    const apiVersion = object.apiVersion ?? "";
    const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
    return `${group}/${object.kind ?? ""}`;
}

/** A manifest as a reviewer names it: `knative/serving 1.23.0 serving-core.yaml`. */
function artefactOf(manifest: KnativeManifest): string {
    return `${manifest.repository} ${manifest.version} ${manifest.file}`;
}

/**
 * Installs one Knative release manifest with `yaml.v2.ConfigFile`, one file per layer. Its CRDs, if it ships any,
 * are applied first and recorded by digest by a {@link CrdSet} (as the charts' are); the ConfigFile installs the
 * rest. The provider waits for each object (a Deployment until its pods are available), so a layer that depends on
 * this one starts only after its webhooks can answer.
 */
export function installManifest(
    parent: pulumi.Resource,
    name: string,
    manifest: KnativeManifest,
    manifestSource: ManifestSource,
    dependsOn: pulumi.Input<pulumi.Resource>[],
    edits: ObjectEdit[] = [],
    transforms: pulumi.ResourceTransform[] = [],
): k8s.yaml.v2.ConfigFile {
    const mirror = manifestSource.imageRegistry;
    const allEdits = [
        leaveAggregatedRules,
        deleteConfigMapsInBackground,
        webhookPortsOutsideTheMesh,
        ...edits,
        ...(mirror === undefined
            ? []
            : [(object: KubeObject) => rewriteImageRegistry(object, KNATIVE_RELEASE_REGISTRY, mirror)]),
    ];
    const location = manifestUrl(manifestSource.baseUrl, manifest);
    const read = manifestSource.read ?? readPublishedManifest;
    const split = pulumi.output(
        read(location).then(
            (text) => splitManifest(text, manifest),
            (error: unknown) => {
                throw new Error(
                    `cannot read Knative's manifest ${location}: ${error instanceof Error ? error.message : String(error)}`,
                );
            },
        ),
    );
    const crds = manifest.crds
        ? [new CrdSet(`${name}-crds`, { artefact: artefactOf(manifest), crds: split.crds }, { parent })]
        : [];
    const configFile = new k8s.yaml.v2.ConfigFile(
        name,
        { file: split.rest },
        { parent, dependsOn: [...dependsOn, ...crds], transforms: [editObjects(allEdits), ...transforms] },
    );
    // Registered once the manifest is read, which a preview does too (the read depends on no resource). Named as the
    // ConfigFile names its objects, and aliased to where the ConfigFile held them, so an older stack keeps them.
    split.ownResources.apply((objects) =>
        objects.map((object) => {
            const edited = applyEdits(allEdits, object);
            const metadata = edited.metadata as { name: string; namespace?: string };
            return new k8s.apiextensions.CustomResource(
                `${name}:${metadata.namespace === undefined ? "" : `${metadata.namespace}/`}${metadata.name}`,
                edited as k8s.apiextensions.CustomResourceArgs,
                { parent, dependsOn: [configFile], transforms, aliases: [{ parent: configFile }] },
            );
        }),
    );
    return configFile;
}

/** A Kubernetes object as a manifest holds it. */
export type KubeObject = Record<string, unknown> & {
    kind?: string;
    metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** A change to the objects of a manifest, applied before they are created. */
export type ObjectEdit = (object: KubeObject) => KubeObject;

/** A Pulumi transform that runs each edit over every object the ConfigFile creates. */
export function editObjects(edits: ObjectEdit[]): pulumi.ResourceTransform {
    return ({ props, opts }) => ({ props: applyEdits(edits, props), opts });
}

function applyEdits(edits: ObjectEdit[], object: KubeObject): KubeObject {
    return edits.reduce((edited, edit) => edit(edited), object);
}

/**
 * Leaves an aggregated ClusterRole's rules to the cluster: the aggregation controller writes them
 * from the roles it selects, so the `rules: []` Knative ships with would be a change at every
 * preview and, applied, a fight with the controller (on any cluster).
 * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#aggregated-clusterroles
 */
export function leaveAggregatedRules(object: KubeObject): KubeObject {
    if (object.kind !== "ClusterRole" || object.aggregationRule === undefined) return object;
    return Object.fromEntries(Object.entries(object).filter(([key]) => key !== "rules"));
}

/**
 * Leaves the rules of the named webhook configurations to Knative's webhook, which writes them
 * (with its CA and paths) when it starts, from the types it serves. Knative Serving 1.23 ships two
 * with their rules filled in: applied with the rest of the core, they take effect before the
 * webhook can answer (its Deployment is not up, its Service may not exist yet), so the core's own
 * custom resources (its `Certificate`) are refused on a first install, on any cluster.
 * @see https://github.com/knative/pkg/blob/main/webhook/resourcesemantics/defaulting/defaulting.go
 */
export function leaveWebhookRulesToKnative(names: readonly string[]): ObjectEdit {
    return (object) => {
        const isWebhookConfiguration =
            object.kind === "MutatingWebhookConfiguration" || object.kind === "ValidatingWebhookConfiguration";
        if (!isWebhookConfiguration || !names.includes(object.metadata?.name ?? "")) return object;
        const webhooks = (object.webhooks ?? []) as Record<string, unknown>[];
        return {
            ...object,
            webhooks: webhooks.map((webhook) =>
                Object.fromEntries(Object.entries(webhook).filter(([key]) => key !== "rules")),
            ),
        };
    };
}

/**
 * Deletes Knative's ConfigMaps in the background. Deleted in the foreground (the provider's
 * default), a ConfigMap waits for the garbage collector to update it, and Knative's config webhook
 * checks every update of its ConfigMaps: once the webhook's pod or Service is gone first, the
 * update is refused and `destroy` waits forever (on any cluster). A ConfigMap has no dependents to
 * wait for.
 * @see https://www.pulumi.com/registry/packages/kubernetes/installation-configuration/#deletion-propagation
 */
export function deleteConfigMapsInBackground(object: KubeObject): KubeObject {
    if (object.kind !== "ConfigMap") return object;
    const metadata = object.metadata ?? {};
    const annotations = { ...metadata.annotations, "pulumi.com/deletionPropagationPolicy": "background" };
    return { ...object, metadata: { ...metadata, annotations } };
}

/** The container port every Knative webhook serves the API server on (Serving's, net-istio's, Eventing's, Kafka's, the IMC's). */
const WEBHOOK_PORT_NAME = "https-webhook";

/**
 * Keeps each Knative webhook's port out of its pod's sidecar. The API server calls webhooks without mesh
 * certificates, so under STRICT mTLS a captured port refuses it until a PERMISSIVE exception reaches the
 * sidecar: upstream ships those exceptions in later layers (net-istio's for Serving's webhook) or not at all
 * (the in-memory channel's), and a webhook with failure policy `Fail` then refuses the first `up`'s
 * ConfigMaps and custom resources in that window. Left out of inbound capture, the port answers the API
 * server from the pod's first moment, with the webhook's own TLS. Without a sidecar it changes nothing.
 * @see https://istio.io/latest/docs/reference/config/annotations/#SidecarTrafficExcludeInboundPorts
 */
export function webhookPortsOutsideTheMesh(object: KubeObject): KubeObject {
    if (object.kind !== "Deployment") return object;
    const spec = (object.spec ?? {}) as { template?: { metadata?: KubeObject["metadata"]; spec?: PodSpec } };
    const ports = (spec.template?.spec?.containers ?? [])
        .flatMap((container) => container.ports ?? [])
        .filter((port) => port.name === WEBHOOK_PORT_NAME)
        .map((port) => String(port.containerPort));
    if (ports.length === 0 || spec.template === undefined) return object;
    const metadata = spec.template.metadata ?? {};
    const annotations = { ...metadata.annotations, "traffic.sidecar.istio.io/excludeInboundPorts": ports.join(",") };
    return { ...object, spec: { ...spec, template: { ...spec.template, metadata: { ...metadata, annotations } } } };
}

/** The part of a pod spec {@link webhookPortsOutsideTheMesh} reads. */
interface PodSpec {
    containers?: { ports?: { name?: string; containerPort?: number }[] }[];
}

/** Adds labels to the Namespace `name` when the manifest creates it (e.g. mesh injection for knative-serving). */
export function labelNamespace(name: string, labels: Record<string, string>): ObjectEdit {
    return (object) =>
        object.kind === "Namespace" && object.metadata?.name === name
            ? { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...labels } } }
            : object;
}

/**
 * Runs a control plane with `replicas` pods, editing the manifest's own objects so that they keep
 * one owner (a separate patch would fight the manifest's values and lose them at every upgrade):
 * the named Deployments get `replicas`, the named HPAs (which Knative ships with `minReplicas: 1`)
 * get it as their minimum, and a maximum at least as high (the API server refuses min > max).
 * @see https://knative.dev/docs/serving/config-ha/
 */
export function scaleControlPlane(replicas: number, names: ControlPlane): ObjectEdit {
    return (object) => {
        const name = object.metadata?.name ?? "";
        const spec = (object.spec ?? {}) as Record<string, unknown>;
        if (object.kind === "Deployment" && names.deployments.includes(name)) {
            return { ...object, spec: { ...spec, replicas } };
        }
        if (object.kind === "HorizontalPodAutoscaler" && names.autoscalers.includes(name)) {
            const maxReplicas = Math.max(Number(spec.maxReplicas ?? 0), replicas);
            return { ...object, spec: { ...spec, minReplicas: replicas, maxReplicas } };
        }
        return object;
    };
}

/** Replaces the data of the manifest's ConfigMap `name` (e.g. upstream's example Kafka settings). */
export function setConfigMapData(name: string, data: Record<string, string>): ObjectEdit {
    return (object) => (object.kind === "ConfigMap" && object.metadata?.name === name ? { ...object, data } : object);
}

/** A Knative control plane's replicated parts: the Deployments to scale, the HPAs to raise. */
export interface ControlPlane {
    deployments: string[];
    autoscalers: string[];
}

/**
 * The custom resources a Knative core ships of its own types (Serving's `Certificate`, its caching
 * `Image`) live in Knative's own namespace and go with it on destroy, which the same ConfigFile
 * deletes: a delete of their own races the webhook's, and Knative's validating webhook checks
 * deletes, so once its pod or Service is gone the API server refuses it (on any cluster). The
 * namespace's own deletion retries until the webhook's configuration is gone too.
 */
export const goWithTheirNamespace: pulumi.ResourceTransform = ({ type, props, opts }) =>
    /^kubernetes:[a-z.]+\.knative\.dev\//.test(type) ? { props, opts: { ...opts, retainOnDelete: true } } : undefined;

/** What {@link installCore} installs, and how. */
export interface KnativeLayers {
    core: KnativeManifest;
    namespace: string;
    manifestSource: ManifestSource;
    /** Label the namespace for sidecar injection as it is created. */
    strictMtls: boolean;
    /** What the core waits for besides its CRDs (the mesh, whose injection webhook must answer first). */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    /** Above 1, the control plane runs that many pods, each Deployment with a PodDisruptionBudget. */
    replicas: number;
    controlPlane: ControlPlane;
    /** Further edits of the core's objects as they are applied. */
    edits?: ObjectEdit[];
}

/**
 * A Knative component's core, CRDs included (its manifest repeats its CRD manifest's), with the control plane
 * at `replicas` (edited into the manifest's own objects) and a PodDisruptionBudget for each
 * replicated Deployment, which Knative ships without one.
 * @see https://knative.dev/docs/serving/config-ha/
 */
export function installCore(parent: pulumi.Resource, name: string, layers: KnativeLayers): k8s.yaml.v2.ConfigFile {
    const { namespace, manifestSource, replicas, controlPlane } = layers;
    const edits = [
        ...(layers.edits ?? []),
        ...(layers.strictMtls ? [labelNamespace(namespace, { "istio-injection": "enabled" })] : []),
        ...(replicas > 1 ? [scaleControlPlane(replicas, controlPlane)] : []),
    ];
    const core = installManifest(parent, `${name}-core`, layers.core, manifestSource, layers.dependsOn, edits, [
        goWithTheirNamespace,
    ]);
    if (replicas > 1) {
        for (const app of controlPlane.deployments) {
            new k8s.policy.v1.PodDisruptionBudget(
                `${name}-${app}-pdb`,
                {
                    metadata: { name: `${app}-pdb`, namespace },
                    spec: { minAvailable: 1, selector: { matchLabels: { app } } },
                },
                { parent, dependsOn: [core] },
            );
        }
    }
    return core;
}

/**
 * Adds keys to one of Knative's ConfigMaps, leaving the manifest's own keys alone (server-side apply). The
 * keys are the stack's settings: a hand edit of one (`kubectl edit`) takes the field over, and the next `up`
 * takes it back (`pulumi.com/patchForce`) instead of failing on the field conflict.
 */
export function patchConfigMap(
    parent: pulumi.Resource,
    name: string,
    namespace: string,
    configMap: string,
    data: Record<string, string>,
    dependsOn: pulumi.Input<pulumi.Resource>[],
): k8s.core.v1.ConfigMapPatch {
    return new k8s.core.v1.ConfigMapPatch(
        name,
        { metadata: { name: configMap, namespace, annotations: { "pulumi.com/patchForce": "true" } }, data },
        { parent, dependsOn },
    );
}

/**
 * The API server calls Knative's webhooks without mesh certificates: under
 * STRICT mTLS the webhook's port 8443 must also accept plain TLS.
 * @see https://knative.dev/docs/install/installing-istio/
 */
export function webhookMtlsException(
    parent: pulumi.Resource,
    name: string,
    namespace: string,
    app: string,
    dependsOn: pulumi.Resource[],
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(
        name,
        {
            apiVersion: "security.istio.io/v1",
            kind: "PeerAuthentication",
            metadata: { name: app, namespace },
            spec: { selector: { matchLabels: { app } }, portLevelMtls: { "8443": { mode: "PERMISSIVE" } } },
        },
        { parent, dependsOn },
    );
}
