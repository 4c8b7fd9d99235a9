/**
 * What the kubelet writes into a pod, written by the cluster host into a host workload's pod directory: its
 * ConfigMap and Secret volumes (kept current) and its projected service account token (renewed).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ApiAccess, kube } from "../kube-api.ts";
import type { Container, Pod, Volume } from "./objects.ts";

/** How long a projected service account token lives; it is renewed at 80% of that, as the kubelet does. */
const TOKEN_SECONDS = 3600;

/** A ConfigMap or Secret volume of a host workload, and where the host writes it. */
export interface Mount {
    mountPath: string;
    hostPath: string;
    source: { kind: string; name: string; encoded: boolean };
}

/** The container's ConfigMap and Secret volumes, each at its mount path under the pod's directory. */
export function mountsOf(root: string, container: Container, volumes: Volume[]): Mount[] {
    return (container.volumeMounts ?? []).flatMap(({ name, mountPath }) => {
        const volume = volumes.find((v) => v.name === name);
        const source = volume?.configMap
            ? { kind: "configmaps", name: volume.configMap.name, encoded: false }
            : volume?.secret
              ? { kind: "secrets", name: volume.secret.secretName, encoded: true }
              : undefined;
        return source ? [{ mountPath, hostPath: join(root, mountPath), source }] : [];
    });
}

/** An argument as the host process sees it: a path under a mount point (`--config=/conf/eck.yaml`) moved under the pod's directory. */
export function inPod(root: string, mounts: Mount[], arg: string): string {
    const separator = arg.startsWith("-") ? arg.indexOf("=") + 1 : 0;
    const value = arg.slice(separator);
    const mounted = mounts.some(({ mountPath }) => value === mountPath || value.startsWith(`${mountPath}/`));
    return mounted ? `${arg.slice(0, separator)}${join(root, value)}` : arg;
}

/** Replaces a file whole, so that a program never reads half of it. */
function replaceFile(file: string, content: Buffer | string): void {
    writeFileSync(`${file}.partial`, content, { mode: 0o600 });
    renameSync(`${file}.partial`, file);
}

/** As the kubelet does: each key of the ConfigMap or Secret is a file, replaced whole when it changes. */
export async function writeVolumes(access: ApiAccess, namespace: string, mounts: Mount[]): Promise<void> {
    for (const { hostPath, source } of mounts) {
        const object = await kube<{ data?: Record<string, string> }>(
            access,
            "GET",
            `/api/v1/namespaces/${namespace}/${source.kind}/${source.name}`,
        ).catch(() => undefined);
        mkdirSync(hostPath, { recursive: true });
        for (const [key, value] of Object.entries(object?.data ?? {})) {
            const content = source.encoded ? Buffer.from(value, "base64") : Buffer.from(value);
            const file = join(hostPath, key);
            if (!existsSync(file) || !readFileSync(file).equals(content)) replaceFile(file, content);
        }
    }
}

/**
 * As the kubelet projects it: a token of the pod's service account, bound to the pod, with the cluster's CA
 * and the namespace, in the files client-go's in-cluster config reads (`<dir>/serviceaccount`). Returns when
 * to renew it (ms since the epoch).
 */
export async function projectToken(access: ApiAccess, serviceAccount: string, pod: Pod, dir: string): Promise<number> {
    const { namespace, name, uid } = pod.metadata;
    const request = await kube<{ status: { token: string } }>(
        access,
        "POST",
        `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
        {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: {
                expirationSeconds: TOKEN_SECONDS,
                boundObjectRef: { apiVersion: "v1", kind: "Pod", name, uid },
            },
        },
    );
    const files = { token: request.status.token, "ca.crt": readFileSync(access.caFile, "utf8"), namespace };
    mkdirSync(join(dir, "serviceaccount"), { recursive: true });
    for (const [file, content] of Object.entries(files)) replaceFile(join(dir, "serviceaccount", file), content);
    return Date.now() + TOKEN_SECONDS * 800;
}
