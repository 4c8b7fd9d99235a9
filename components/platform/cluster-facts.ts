/**
 * Reads what the compatibility check needs from the target cluster, with the same kubeconfig or
 * context the Kubernetes provider uses: the API server's version (`/version`, readable by any
 * authenticated user), the Knative Serving release installed there (the `app.kubernetes.io/version`
 * label Knative's release manifests put on the `knative-serving` Namespace), the Istio release
 * (the tag of istiod's image), the Elastic Stack version of the platform's Elasticsearch, the
 * StorageClasses its volumes can claim (the default is the one annotated `is-default-class`), and the
 * names of the CRDs it has.
 */
import {
    ApiextensionsV1Api,
    AppsV1Api,
    type ConfigurationOptions,
    CoreV1Api,
    CustomObjectsApi,
    KubeConfig,
    Observable,
    StorageV1Api,
    VersionApi,
} from "@kubernetes/client-node";
import type * as pulumi from "@pulumi/pulumi";
import { type ClusterFacts, minorOf } from "./compatibility.ts";

/** The cluster a stack names: a kubeconfig (secret) or a context of the ambient kubeconfig. */
export interface ClusterTarget {
    kubeconfig: pulumi.Output<string> | undefined;
    context: string | undefined;
}

function unwrap(value: pulumi.Output<string>): Promise<string> {
    return new Promise((resolve) => {
        value.apply((text) => {
            resolve(text);
            return text;
        });
    });
}

export async function readClusterFacts(target: ClusterTarget): Promise<ClusterFacts> {
    const config = new KubeConfig();
    if (target.kubeconfig !== undefined) {
        config.loadFromString(await unwrap(target.kubeconfig));
    } else {
        config.loadFromDefault();
        if (target.context !== undefined) config.setCurrentContext(target.context);
    }
    const version = await config.makeApiClient(VersionApi).getCode();
    const core = config.makeApiClient(CoreV1Api);
    const [namespace, istiod, elasticsearch, storageClasses, crds] = await Promise.all([
        orNothing(core.readNamespace({ name: "knative-serving" })),
        orNothing(
            config.makeApiClient(AppsV1Api).readNamespacedDeployment({ name: "istiod", namespace: "istio-system" }),
        ),
        orNothing(
            config.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
                group: "elasticsearch.k8s.elastic.co",
                version: "v1",
                namespace: "monitoring",
                plural: "elasticsearches",
                name: "logs",
            }) as Promise<{ spec?: { version?: string } }>,
        ),
        config.makeApiClient(StorageV1Api).listStorageClass(),
        config.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition({}, METADATA_ONLY),
    ]);
    const istioImage = istiod?.spec?.template.spec?.containers[0]?.image;
    return {
        kubernetes: minorOf(version.gitVersion),
        installedKnative: releaseOf(namespace?.metadata?.labels?.["app.kubernetes.io/version"]),
        installedIstio: releaseOf(istioImage?.slice(istioImage.lastIndexOf(":") + 1)),
        installedElasticsearch: releaseOf(elasticsearch?.spec?.version),
        storageClasses: {
            names: storageClasses.items.map((storageClass) => storageClass.metadata?.name ?? ""),
            default: storageClasses.items.find(
                (storageClass) =>
                    storageClass.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
            )?.metadata?.name,
        },
        crds: ((crds as MetadataList).items ?? []).map((crd) => crd.metadata?.name ?? ""),
    };
}

/** What the API server answers for {@link METADATA_ONLY}: `items` is null, not empty, when there are none. */
interface MetadataList {
    items: { metadata?: { name?: string } }[] | null;
}

/**
 * Asks the API server for objects' metadata only (PartialObjectMetadataList): the CRDs' names are all the program
 * needs, and their schemas are megabytes.
 */
const METADATA_ONLY: ConfigurationOptions = {
    middleware: [
        {
            pre: (context) => {
                context.setHeaderParam("Accept", "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
                return new Observable(Promise.resolve(context));
            },
            post: (response) => new Observable(Promise.resolve(response)),
        },
    ],
    middlewareMergeStrategy: "append",
};

/** The object, or undefined where the cluster has none (404: not installed, or its CRD is not). */
function orNothing<T>(request: Promise<T>): Promise<T | undefined> {
    return request.catch((error: unknown) => {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
    });
}

/** `major.minor` of a release label or tag; a development build ("devel", "latest") names no release. */
function releaseOf(version: string | undefined): string | undefined {
    return version !== undefined && /^v?\d+\.\d+/.test(version) ? minorOf(version) : undefined;
}
