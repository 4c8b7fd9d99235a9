/**
 * Upstream CustomResourceDefinitions: how the platform applies them, records them and lets go of them.
 *
 * A CRD's schema is large (the Prometheus Operator's Prometheus CRD alone is some 450 KB as JSON), and the
 * Kubernetes provider stores every object three times in the state (its inputs, the live object, the inputs
 * again), which a file or bucket backend rewrites after every step. So the charts' CRDs are not the charts'
 * objects: a {@link CrdSet} applies them, and stores only each CRD's name and digest. A bump previews as the
 * CRDs whose digest changed, one line each, instead of their schemas. Knative's manifests' CRDs go the same way
 * (`knative-manifests.ts`).
 *
 * A set lets go of its CRDs instead of deleting them. Deleting a CRD deletes every object of its kind in every
 * namespace: a platform `destroy`, or an upgrade that drops a CRD, would take every app team's objects of that kind
 * with it (Knative Services, Triggers, ServiceMonitors), from namespaces the platform retains. Helm never deletes a
 * chart's CRDs for the same reason. The platform's next `up` takes them back (server-side apply adopts what exists).
 * @see https://helm.sh/docs/chart_best_practices/custom_resource_definitions/
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { stackFieldManager } from "../shared/field-manager.ts";
import { type CrdSetInputs, crdSetProvider } from "./crd-set-provider.ts";

/** A Kubernetes object as a chart or manifest renders it. */
export interface RenderedObject {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string };
    [field: string]: unknown;
}

/** Where the program writes each CRD's manifest for the provider to read: content-addressed, so never stale. */
export const CRD_BODIES = join(tmpdir(), "serverless-platform-crds");

/** Writes each CRD's manifest under its digest and returns name → `sha256:<hex>`. */
export function writeCrdBodies(crds: RenderedObject[], directory = CRD_BODIES): Record<string, string> {
    const digests: Record<string, string> = {};
    for (const crd of [...crds].sort((a, b) => nameOf(a).localeCompare(nameOf(b)))) {
        digests[nameOf(crd)] = `sha256:${writeContentAddressed(directory, JSON.stringify(crd), "json")}`;
    }
    return digests;
}

/**
 * Writes `text` as `<directory>/<sha256 hex>.<extension>` and returns the hex. Written aside and renamed into place,
 * so that a run reading the file while another run writes it reads it whole.
 */
export function writeContentAddressed(directory: string, text: string, extension: string): string {
    const hex = createHash("sha256").update(text).digest("hex");
    const path = join(directory, `${hex}.${extension}`);
    mkdirSync(directory, { recursive: true });
    writeFileSync(`${path}.${String(process.pid)}`, text);
    renameSync(`${path}.${String(process.pid)}`, path);
    return hex;
}

function nameOf(object: RenderedObject): string {
    const name = object.metadata?.name;
    if (name === undefined) throw new Error(`a ${object.kind ?? "object"} without metadata.name`);
    return name;
}

/** Arguments of {@link CrdSet}. */
export interface CrdSetArgs {
    /** The upstream artefact the CRDs come from, as a reviewer names it: `kube-prometheus-stack 88.5.3`. */
    artefact: string;
    /** The artefact's CRDs as it renders them. */
    crds: pulumi.Input<RenderedObject[]>;
}

/**
 * One upstream artefact's CRDs, applied by server-side apply under the stack's field manager and waited on until
 * the API server serves them, and recorded by name and digest only. A `destroy`, or a CRD an upgrade drops, lets
 * go of them (see above). The cluster is the one the stack's `kubernetes:kubeconfig` or
 * `kubernetes:context` names, given to the host of the stack's dynamic resources (`DynamicResourceHost`), which
 * the platform passes down as the Kubernetes provider is.
 *
 * A chart's are made by {@link chartCrds}.
 */
export class CrdSet extends pulumi.dynamic.Resource {
    /** Each CRD's name → `sha256:<hex>` of its manifest. */
    declare public readonly crds: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: CrdSetArgs, opts?: pulumi.CustomResourceOptions) {
        const inputs: pulumi.Inputs = {
            artefact: args.artefact,
            crds: pulumi.output(args.crds).apply((crds) => writeCrdBodies(crds)),
            fieldManager: stackFieldManager(),
            bodies: CRD_BODIES,
        } satisfies { [Key in keyof CrdSetInputs]: unknown };
        super(crdSetProvider, name, inputs, opts, "crds", "CrdSet");
    }
}

/** A Helm chart as the platform installs it: what `helm template` needs to render it. */
export interface ChartSource {
    /** The chart as a reviewer names it in a preview: `kube-prometheus-stack 88.5.3`. */
    artefact: string;
    chart: string;
    version: string;
    repository: string;
    /** The release's name and namespace, which some charts write into their CRDs. */
    releaseName: string;
    namespace: pulumi.Input<string>;
    values: pulumi.Input<Record<string, unknown>>;
}

/** A chart's CRDs as a {@link CrdSet} applies them, and their names. */
export interface ChartCrds {
    /** The set: the chart depends on it, and installs none of the CRDs itself but in {@link ChartCrds.inChart}. */
    set: CrdSet;
    names: pulumi.Output<string[]>;
    /**
     * Whether the chart renders its CRDs itself in this run: only in a preview against a cluster that lacks some of
     * them. The Kubernetes provider learns a custom resource's scope from the API server or from a CRD among the
     * chart's own objects, so without them such a preview fails on the chart's custom resources (kube-prometheus-
     * stack's Prometheus, say; pulumi-kubernetes#3176). That preview shows the CRDs twice, under the set and under
     * the chart; `up` applies them through the set first, and the chart then finds them on the cluster.
     */
    inChart: pulumi.Output<boolean>;
}

/** What a component that installs charts with CRDs learns of the cluster, for {@link chartCrds}. */
export interface ClusterCrdsArgs {
    /**
     * The names of the CRDs the cluster had when the run started (`readClusterFacts`): in a preview, a chart whose
     * CRDs the cluster lacks renders them itself (see {@link ChartCrds.inChart}). Unset, they are taken as there.
     */
    clusterCrds?: readonly string[] | undefined;
}

/**
 * The CRDs a chart installs with these values, from its `crds/` directory and its templates alike, rendered by the
 * Kubernetes provider's own `helm template` (the one its v3 Chart uses), and applied and recorded by a CrdSet.
 */
export function chartCrds(
    name: string,
    source: ChartSource,
    clusterCrds: ClusterCrdsArgs["clusterCrds"],
    opts: { parent: pulumi.Resource },
): ChartCrds {
    // Invoked in an apply rather than by invokeOutput, which in a preview answers nothing while an input comes from a
    // resource being created (kube-prometheus-stack's namespace): a new environment's preview would show none of
    // the chart.
    const crds = pulumi.all([source.values, source.namespace]).apply(async ([values, namespace]) => {
        const jsonOpts = JSON.stringify({
            chart: source.chart,
            version: source.version,
            fetch_opts: { repo: source.repository },
            release_name: source.releaseName,
            namespace,
            values,
        });
        const { result } = (await pulumi.runtime.invoke("kubernetes:helm:template", { jsonOpts }, opts)) as {
            result?: RenderedObject[];
        };
        return (result ?? []).filter((object) => object.kind === "CustomResourceDefinition");
    });
    const names = crds.apply((rendered) => rendered.map(nameOf));
    return {
        set: new CrdSet(name, { artefact: source.artefact, crds }, opts),
        names,
        inChart: names.apply(
            (rendered) =>
                pulumi.runtime.isDryRun() &&
                clusterCrds !== undefined &&
                rendered.some((crd) => !clusterCrds.includes(crd)),
        ),
    };
}
