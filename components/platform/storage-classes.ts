/**
 * The volumes a stack asks for against the StorageClasses its cluster has. A claim of a class the
 * cluster lacks, or of the default on a cluster without one, stays Pending forever, and `up` waits
 * on Prometheus or Elasticsearch until it times out: so both are refused at preview instead.
 * @see https://kubernetes.io/docs/concepts/storage/storage-classes/#default-storageclass
 */
import { Problems } from "../shared/problems.ts";
import type { StorageClasses } from "./compatibility.ts";
import type { MonitoringConfig } from "./config/index.ts";

/** A volume the stack claims: the config key that chooses its class, and the class (unset: the cluster's default). */
export interface StorageClaim {
    key: string;
    storageClass: string | undefined;
}

/** The persistent volumes the monitoring section claims. */
export function monitoringClaims(monitoring: MonitoringConfig): StorageClaim[] {
    const { metrics, logs } = monitoring;
    return [
        ...(metrics.enabled && metrics.persistent
            ? [{ key: "monitoring.metrics.storageClass", storageClass: metrics.storageClass }]
            : []),
        ...(logs.enabled && logs.externalElasticsearch === undefined && logs.persistent
            ? [{ key: "monitoring.logs.storageClass", storageClass: logs.storageClass }]
            : []),
    ];
}

/** Refuses, naming each key, the claims the cluster cannot provision. */
export function enforceStorageClasses(claims: StorageClaim[], cluster: StorageClasses, subject: string): void {
    const problems = new Problems(subject);
    const offered =
        cluster.names.length === 0
            ? "the cluster has no StorageClass"
            : `the cluster has ${cluster.names.map((name) => (name === cluster.default ? `${name} (default)` : name)).join(", ")}`;
    for (const { key, storageClass } of claims) {
        if (storageClass !== undefined && !cluster.names.includes(storageClass)) {
            problems.add(key, `must name a StorageClass of the cluster; ${offered}`, storageClass);
        } else if (storageClass === undefined && cluster.default === undefined) {
            problems.add(key, `must name a StorageClass: ${offered}, and none is its default`, storageClass);
        }
    }
    problems.throwIfAny();
}
