/**
 * Reads what the compatibility check needs from the target cluster, with the same kubeconfig or
 * context the Kubernetes provider uses: the API server's version (`/version`, readable by any
 * authenticated user) and the Knative Serving release installed there (the
 * `app.kubernetes.io/version` label Knative's release manifests put on the `knative-serving`
 * Namespace).
 */
import { CoreV1Api, KubeConfig, VersionApi } from "@kubernetes/client-node";
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
    const namespace = await config
        .makeApiClient(CoreV1Api)
        .readNamespace({ name: "knative-serving" })
        .catch((error: unknown) => {
            if ((error as { code?: number }).code === 404) return undefined;
            throw error;
        });
    const installed = namespace?.metadata?.labels?.["app.kubernetes.io/version"];
    return {
        kubernetes: minorOf(version.gitVersion),
        // A development build is labelled "devel": no release to upgrade from.
        installedKnative: installed !== undefined && /^v?\d+\.\d+/.test(installed) ? minorOf(installed) : undefined,
    };
}
