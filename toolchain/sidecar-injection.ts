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

/**
 * Answers an injection AdmissionReview (the request's JSON) with istio-injector's AdmissionReview: the pod
 * patched with its sidecar, left alone, or refused in the injector's words when its templates fail.
 */
export async function injectSidecar(injector: string, read: IstioConfigMapReader, review: unknown): Promise<string> {
    const [templates, mesh] = await Promise.all([read("istio-sidecar-injector"), read("istio")]);
    const input = JSON.stringify({
        review,
        config: templates.data?.config ?? "",
        values: templates.data?.values ?? "",
        mesh: mesh.data?.mesh ?? "",
    });
    return new Promise((resolve, reject) => {
        const child = execFile(injector, [], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) reject(new Error(`istio-injector failed: ${stderr || error.message}`));
            else resolve(stdout);
        });
        child.stdin?.end(input);
    });
}
