/**
 * istiod's sidecar injection on the simulated cluster: the cluster host's answerer for istiod's webhook
 * sends each pod it is asked to inject to `istio-injector` (toolchain/istio-injector), with the injection
 * templates and values of the istiod chart the platform installed and the mesh config, as istiod reads
 * them from its ConfigMaps; the API server's Pod Security admission then judges the pod with its sidecar.
 */
import { execFile } from "node:child_process";

/** The path of istiod's injection webhook (the chart's `istiodRemote.injectionPath`). */
export const INJECTION_PATH = "/inject";

interface ConfigMap {
    data?: Record<string, string>;
}

/** Reads a ConfigMap of istio-system, as istiod's pod mounts it. */
export type IstioConfigMapReader = (name: string) => Promise<ConfigMap>;

interface Review {
    apiVersion: string;
    request: { uid: string };
}

/**
 * Answers an injection AdmissionReview with istio-injector's AdmissionReview: the pod patched with its
 * sidecar, left alone, or refused in the injector's words when its templates fail, or with the reason
 * when istiod's ConfigMaps cannot be read or the injector cannot run (as a broken istiod refuses pods).
 */
export async function injectSidecar(injector: string, read: IstioConfigMapReader, review: Review): Promise<string> {
    try {
        return await runInjector(injector, read, review);
    } catch (error) {
        return JSON.stringify({
            apiVersion: review.apiVersion,
            kind: "AdmissionReview",
            response: {
                uid: review.request.uid,
                allowed: false,
                status: { message: error instanceof Error ? error.message : String(error) },
            },
        });
    }
}

async function runInjector(injector: string, read: IstioConfigMapReader, review: Review): Promise<string> {
    // Both are read at once; each that cannot be read is named, in this order whichever answers first.
    const reads = await Promise.allSettled([read("istio-sidecar-injector"), read("istio")]);
    const [templates, mesh] = reads;
    const unreadable = (["istio-sidecar-injector", "istio"] as const).flatMap((name, index) => {
        const outcome = reads[index];
        return outcome?.status === "rejected"
            ? [
                  `istiod's ConfigMap istio-system/${name}, which istiod's chart writes, cannot be read: ${outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)}`,
              ]
            : [];
    });
    if (templates.status === "rejected" || mesh.status === "rejected") throw new Error(unreadable.join("; "));
    const input = JSON.stringify({
        review,
        config: templates.value.data?.config ?? "",
        values: templates.value.data?.values ?? "",
        mesh: mesh.value.data?.mesh ?? "",
    });
    return new Promise((resolve, reject) => {
        const child = execFile(injector, [], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) reject(new Error(`istio-injector failed: ${stderr || error.message}`));
            else resolve(stdout);
        });
        child.stdin?.end(input);
    });
}
