/**
 * Builders for stand-in objects: workloads shaped as upstream ships them (labels, hardened
 * security context, requests and limits) and their Services. Each caller states where an upstream
 * fact differs from these defaults.
 */
import { createHash } from "node:crypto";

export type Obj = Record<string, unknown>;

/** A digest-pinned image reference, as release manifests carry (the digest is made up, stable per name). */
export function digestImage(repository: string): string {
    return `${repository}@sha256:${createHash("sha256").update(repository).digest("hex")}`;
}

/** The container security context Knative, Istio's charts and most operators ship. */
export const HARDENED_CONTAINER = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
} as const;

export interface WorkloadOptions {
    kind?: "Deployment" | "StatefulSet" | "DaemonSet";
    image: string;
    labels?: Record<string, string>;
    replicas?: number;
    /** Container security context. @default HARDENED_CONTAINER */
    securityContext?: Obj;
    podSecurityContext?: Obj;
    resources?: Obj;
    ports?: { name: string; containerPort: number }[];
}

export const SMALL_RESOURCES = { requests: { cpu: "100m", memory: "100Mi" }, limits: { memory: "1000Mi" } };

/** A workload with one container named after it, selected by `app: <name>`. */
export function workload(name: string, namespace: string, options: WorkloadOptions): Obj {
    const kind = options.kind ?? "Deployment";
    const labels = { app: name, ...options.labels };
    return {
        apiVersion: "apps/v1",
        kind,
        metadata: { name, namespace, labels },
        spec: {
            ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
            ...(kind === "StatefulSet" ? { serviceName: name } : {}),
            selector: { matchLabels: { app: name } },
            template: {
                metadata: { labels },
                spec: {
                    ...(options.podSecurityContext ? { securityContext: options.podSecurityContext } : {}),
                    containers: [
                        {
                            name,
                            image: options.image,
                            securityContext: options.securityContext ?? HARDENED_CONTAINER,
                            resources: options.resources ?? SMALL_RESOURCES,
                            ...(options.ports ? { ports: options.ports } : {}),
                        },
                    ],
                },
            },
        },
    };
}

/** A ClusterIP Service selecting `app: <app>`. */
export function service(name: string, namespace: string, app: string, ports: Obj[]): Obj {
    return { apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec: { selector: { app }, ports } };
}
