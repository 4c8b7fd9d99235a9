/**
 * The warm-capacity scheduler: one per app namespace, run by a pinned Node
 * image with this file and windows.ts mounted from a ConfigMap.
 *
 * Every `INTERVAL_SECONDS` it reads the namespace's Knative Services, and for
 * each one carrying a warm schedule (annotation `serverless-platform/warm-schedule`)
 * sets `autoscaling.knative.dev/min-scale` on the revisions that take traffic
 * to the value that applies now. Patching a live Revision's annotation
 * reaches its autoscaler without a new revision or a restart (Knative ≥ 1.21);
 * a new revision gets the current value within one interval. When a window
 * raises min-scale from zero, one request is sent through the service, so the
 * window starts with a pod that is really up.
 *
 * Out of the cluster (tests, a laptop), KUBE_API, KUBE_TOKEN and KUBE_CA_FILE
 * point it at any API server.
 */
import { readFileSync, realpathSync } from "node:fs";
import { request } from "node:https";
import { fileURLToPath } from "node:url";
import {
    MANAGED_ANNOTATION,
    MIN_SCALE_ANNOTATION,
    SCHEDULE_ANNOTATION,
    type WarmSchedule,
    desiredMinScale,
    revisionsToPatch,
    routedRevisions,
} from "./windows.ts";

/** The API calls the scheduler makes; the RBAC grants exactly these. */
export interface KubeClient {
    get(path: string): Promise<unknown>;
    mergePatch(path: string, body: unknown): Promise<unknown>;
}

/** The fields of a Knative Service or Revision the scheduler reads. */
interface KnativeObject {
    metadata?: { name?: string; annotations?: Record<string, string> };
    spec?: { template?: { metadata?: { annotations?: Record<string, string> } } };
    status?: {
        traffic?: { revisionName?: string; percent?: number }[];
        url?: string;
        address?: { url?: string };
    };
}

interface KnativeList {
    items?: KnativeObject[];
}

/** What one pass did, for logs and tests. */
export interface PassReport {
    patched: { service: string; revision: string; minScale: number }[];
    warmedUp: string[];
    errors: string[];
}

const SERVING = "/apis/serving.knative.dev/v1";

/** One pass over a namespace at `now`; `warmUp` sends the warm-up request. */
export async function reconcile(
    client: KubeClient,
    namespace: string,
    now: Date,
    warmUp: (url: string) => Promise<void>,
): Promise<PassReport> {
    const report: PassReport = { patched: [], warmedUp: [], errors: [] };
    const services = (await client.get(`${SERVING}/namespaces/${namespace}/services`)) as KnativeList;
    for (const service of services.items ?? []) {
        const name = String(service.metadata?.name);
        const text = service.metadata?.annotations?.[SCHEDULE_ANNOTATION];
        try {
            const revisions = (await client.get(
                `${SERVING}/namespaces/${namespace}/revisions?labelSelector=${encodeURIComponent(`serving.knative.dev/service=${name}`)}`,
            )) as KnativeList;
            const states = (revisions.items ?? []).map((r) => ({
                name: String(r.metadata?.name),
                minScale: r.metadata?.annotations?.[MIN_SCALE_ANNOTATION],
                managed: r.metadata?.annotations?.[MANAGED_ANNOTATION] !== undefined,
            }));
            if (text === undefined) {
                // The schedule was removed: give the revisions this scheduler changed their template's own minimum
                // back, written out (a deleted annotation does not reach a live revision's autoscaler).
                const own = service.spec?.template?.metadata?.annotations?.[MIN_SCALE_ANNOTATION] ?? "0";
                for (const revision of states.filter((r) => r.managed)) {
                    await client.mergePatch(`${SERVING}/namespaces/${namespace}/revisions/${revision.name}`, {
                        metadata: { annotations: { [MIN_SCALE_ANNOTATION]: own, [MANAGED_ANNOTATION]: null } },
                    });
                    report.patched.push({ service: name, revision: revision.name, minScale: Number(own) });
                }
                continue;
            }
            const schedule = JSON.parse(text) as WarmSchedule;
            const desired = desiredMinScale(schedule, now);
            const toPatch = revisionsToPatch(routedRevisions(service.status?.traffic), states, desired);
            let raisedFromZero = false;
            for (const revision of toPatch) {
                const before = Number(states.find((s) => s.name === revision)?.minScale ?? 0);
                await client.mergePatch(`${SERVING}/namespaces/${namespace}/revisions/${revision}`, {
                    metadata: {
                        annotations: { [MIN_SCALE_ANNOTATION]: String(desired), [MANAGED_ANNOTATION]: "true" },
                    },
                });
                report.patched.push({ service: name, revision, minScale: desired });
                raisedFromZero ||= before === 0 && desired > 0;
            }
            const url = service.status?.address?.url ?? service.status?.url;
            if (raisedFromZero && schedule.warmUp && url !== undefined) {
                await warmUp(url);
                report.warmedUp.push(name);
            }
        } catch (error) {
            report.errors.push(`${name}: ${(error as Error).message}`);
        }
    }
    return report;
}

/** Where an API server is and how to prove who we are to it. */
export interface ApiTarget {
    api: string;
    token: string;
    /** PEM of the CA that signed the API server's certificate. */
    ca: Buffer | string;
}

/**
 * One JSON request to an API server, answering its JSON as `T` (unchecked: the caller names what
 * the API returns); rejects, with the server's words, on a status of 300 or more.
 */
export function apiRequest<T = unknown>(
    target: ApiTarget,
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = request(
            new URL(path, target.api),
            {
                method,
                ca: target.ca,
                headers: {
                    authorization: `Bearer ${target.token}`,
                    accept: "application/json",
                    ...(payload !== undefined ? { "content-type": contentType } : {}),
                },
                timeout: 15_000,
            },
            (res) => {
                let text = "";
                res.on("data", (chunk: Buffer) => (text += chunk.toString()));
                res.on("end", () => {
                    if ((res.statusCode ?? 500) >= 300)
                        reject(new Error(`${method} ${path}: ${String(res.statusCode)} ${text}`));
                    else resolve((text === "" ? {} : text.startsWith("{") ? JSON.parse(text) : text) as T);
                });
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on("error", reject);
        req.end(payload);
    });
}

/** A client for the API server, in the cluster or from KUBE_API / KUBE_TOKEN / KUBE_CA_FILE. */
export function clientFromEnvironment(env: NodeJS.ProcessEnv = process.env): { client: KubeClient; namespace: string } {
    const serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount";
    const target: ApiTarget = {
        api:
            env.KUBE_API ??
            `https://${env.KUBERNETES_SERVICE_HOST ?? "kubernetes.default.svc"}:${env.KUBERNETES_SERVICE_PORT ?? "443"}`,
        token: env.KUBE_TOKEN ?? readFileSync(`${serviceAccount}/token`, "utf8").trim(),
        ca: readFileSync(env.KUBE_CA_FILE ?? `${serviceAccount}/ca.crt`),
    };
    const namespace = env.NAMESPACE ?? readFileSync(`${serviceAccount}/namespace`, "utf8").trim();
    return {
        client: {
            get: (path) => apiRequest(target, "GET", path),
            mergePatch: (path, body) => apiRequest(target, "PATCH", path, body, "application/merge-patch+json"),
        },
        namespace,
    };
}

async function sendWarmUp(url: string): Promise<void> {
    const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    await response.arrayBuffer();
}

async function main(): Promise<void> {
    const { client, namespace } = clientFromEnvironment();
    const interval = Number(process.env.INTERVAL_SECONDS ?? "30") * 1000;
    const state = { running: true };
    process.on("SIGTERM", () => (state.running = false));
    console.log(`warm scheduler: namespace ${namespace}, every ${interval / 1000}s`);
    while (state.running) {
        try {
            const report = await reconcile(client, namespace, new Date(), sendWarmUp);
            for (const p of report.patched) console.log(`set min-scale ${p.minScale} on ${p.service}/${p.revision}`);
            for (const s of report.warmedUp) console.log(`warmed up ${s}`);
            for (const e of report.errors) console.error(e);
        } catch (error) {
            console.error(`pass failed: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, interval));
    }
}

/**
 * Whether Node runs this file as its program. Kubernetes mounts ConfigMap files as symlinks
 * (`scheduler.ts -> ..data/scheduler.ts`) and Node resolves them for the entry module, so the
 * command line's path and this module's URL name the same file by different paths.
 */
function isProgram(): boolean {
    const program = process.argv[1];
    return program !== undefined && realpathSync(program) === realpathSync(fileURLToPath(import.meta.url));
}

if (isProgram()) {
    await main();
}
