/**
 * The toolchain's one Kubernetes API client: the cluster host, the local cluster and the e2e call the
 * simulated cluster's API server through it, as its admin or as a pod's service account. (The warm
 * scheduler's pod program keeps its own: it runs alone in its pod, with only its own files mounted.)
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";

/** Where an API server is, whose token calls it, and the CA file that signed its certificate. */
export interface ApiAccess {
    api: string;
    token: string;
    caFile: string;
}

/** How long one call may take before it is abandoned: an API server answers well within it. */
const CALL_TIMEOUT_MS = 15_000;

/** Each CA file read once: the cluster host calls many times a second, and a cluster's CA never changes. */
const authorities = new Map<string, Buffer>();
const authority = (caFile: string): Buffer => {
    const known = authorities.get(caFile) ?? readFileSync(caFile);
    authorities.set(caFile, known);
    return known;
};

/**
 * Sends one request and returns the answer, JSON parsed as `T` (unchecked: the caller names what the API
 * returns); rejects, with the server's words, on a status of 300 or more.
 */
export async function kube<T = unknown>(
    access: ApiAccess,
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${access.token}`, accept: "application/json" };
    if (payload !== undefined) headers["content-type"] = contentType;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const call = request(
            new URL(path, access.api),
            { method, ca: authority(access.caFile), headers, timeout: CALL_TIMEOUT_MS },
            (answer) => {
                const chunks: Buffer[] = [];
                answer.on("data", (chunk: Buffer) => chunks.push(chunk));
                answer.on("end", () => {
                    resolve({ status: answer.statusCode ?? 500, text: Buffer.concat(chunks).toString() });
                });
                answer.on("error", reject);
            },
        );
        call.on("timeout", () => call.destroy(new Error(`${method} ${path}: no answer in ${CALL_TIMEOUT_MS} ms`)));
        call.on("error", reject);
        call.end(payload);
    });
    if (status >= 300) throw new Error(`${method} ${path}: ${String(status)} ${text}`);
    if (text === "") return {} as T;
    return (text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text) as T;
}
