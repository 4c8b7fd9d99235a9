/**
 * What the platform's Prometheus would scrape, by upstream's own code: the configuration the Prometheus
 * Operator generated, expanded by the operator's config reloader as Prometheus's pod runs it (its init
 * container), then given to the toolchain's prometheus-targets (built from github.com/prometheus/prometheus),
 * which runs each job's Kubernetes discovery against the world's cluster and applies the job's relabelling.
 */
import { execFileSync, spawn } from "node:child_process";
import { openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1Secret, V1StatefulSet } from "@kubernetes/client-node";
import { toolchain } from "../toolchain/toolchain.ts";
import type { World } from "./world.ts";

/** A target: the URL Prometheus would scrape and the labels its series would carry. */
export interface Target {
    url: string;
    labels: Record<string, string>;
}

/** The discovery running: each job's targets as they are now, until `stop`. */
export interface Targets {
    /** The targets of a job, over all its discovered groups. */
    of(job: string): Target[];
    /** Relabelling errors, by job, and the discovery's own failure. */
    errors(): string[];
    stop(): void;
}

/**
 * The configuration Prometheus `name` in `namespace` loads: the operator's Secret, expanded by the
 * operator's config reloader with its init container's arguments' meaning (run once) and environment.
 */
export async function prometheusConfig(world: World, namespace: string, name: string): Promise<string> {
    const statefulSet = `prometheus-${name}`;
    const secret = await world.kube<V1Secret>("GET", `/api/v1/namespaces/${namespace}/secrets/${statefulSet}`);
    const pod = await world.kube<V1StatefulSet>(
        "GET",
        `/apis/apps/v1/namespaces/${namespace}/statefulsets/${statefulSet}`,
    );
    const reloader = pod.spec?.template.spec?.initContainers?.find((c) => c.name === "init-config-reloader");
    if (reloader === undefined) throw new Error(`${statefulSet} has no init-config-reloader container`);
    const env: Record<string, string> = {};
    for (const variable of reloader.env ?? []) {
        if (variable.value !== undefined) env[variable.name] = variable.value;
        else if (variable.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[variable.name] = `${statefulSet}-0`;
    }
    const compressed = join(world.dir, "prometheus.yaml.gz");
    const expanded = join(world.dir, "prometheus.env.yaml");
    writeFileSync(compressed, Buffer.from(secret.data?.["prometheus.yaml.gz"] ?? "", "base64"));
    const { prometheusConfigReloader } = toolchain("cluster");
    execFileSync(
        prometheusConfigReloader,
        ["--watch-interval=0", `--config-file=${compressed}`, `--config-envsubst-file=${expanded}`],
        { env, stdio: ["ignore", "ignore", "inherit"] },
    );
    return expanded;
}

/** Starts Prometheus's discovery of `configFile`'s jobs against the cluster of `kubeconfig`; its own log goes to `log`. */
export function discoverTargets(configFile: string, kubeconfig: string, log: string): Targets {
    const { prometheusTargets } = toolchain("judge");
    const child = spawn(prometheusTargets, ["--config", configFile, "--kubeconfig", kubeconfig], {
        stdio: ["ignore", "pipe", openSync(log, "a")],
    });
    const failures: string[] = [];
    child.on("exit", (code) => {
        if (code !== null && code !== 0) failures.push(`prometheus-targets exited with ${String(code)} (see ${log})`);
    });
    /** By job, then by group source: the group's targets as last reported. */
    const groups = new Map<string, Map<string, { targets: Target[]; errors: string[] }>>();
    let pending = "";
    const { stdout } = child;
    if (stdout === null) throw new Error("prometheus-targets has no standard output");
    stdout.setEncoding("utf8");
    stdout.on("data", (chunk: string) => {
        const lines = (pending + chunk).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines.filter((l) => l !== "")) {
            const group = JSON.parse(line) as { job: string; source: string; targets: Target[]; errors?: string[] };
            const ofJob = groups.get(group.job) ?? new Map<string, { targets: Target[]; errors: string[] }>();
            ofJob.set(group.source, { targets: group.targets, errors: group.errors ?? [] });
            groups.set(group.job, ofJob);
        }
    });
    return {
        of: (job) => [...(groups.get(job)?.values() ?? [])].flatMap((group) => group.targets),
        errors: () => [
            ...failures,
            ...[...groups.entries()].flatMap(([job, ofJob]) =>
                [...ofJob.values()].flatMap((group) => group.errors.map((error) => `${job}: ${error}`)),
            ),
        ],
        stop: () => child.kill(),
    };
}
