/**
 * The simulated cluster's host: what a node's network and container runtime are to the cluster.
 * One process beside the control plane (`node toolchain/cluster-host.ts <file>`), its jobs one file each
 * under host/:
 *
 * - **The network** (network.ts): the API server's egress and every pod sandbox reach ClusterIPs, pod IPs
 *   and cluster DNS through it.
 * - **Upstream code as pods** (workloads.ts, pod-files.ts): an upstream program whose code builds here
 *   (Knative Serving's controller, autoscaler, activator and webhook, ECK's operator, the Prometheus
 *   Operator) runs as its workload's ready pod, in a sandbox of its own (pod-sandbox.ts).
 * - **Admission stand-ins** (admission.ts): upstream webhooks whose code is not reachable here are allowed
 *   without a check, their CA written where the upstream pod writes it; istiod's sidecar injection is
 *   answered from the installed chart's own templates (sidecar-injection.ts).
 * - **Data-plane stand-ins** (stand-ins.ts): Knative's networking Ingresses marked ready as net-istio marks
 *   them, and revision pods' queue-proxies answering the autoscaler's scrapes as idle ones do.
 *
 * Each stand-in is listed in the README's stand-in table with why it remains.
 */
import { readFileSync } from "node:fs";
import { serveUncheckedWebhooks, writeUncheckedCaBundles } from "./host/admission.ts";
import { ClusterNetwork } from "./host/network.ts";
import { type HostConfig, log } from "./host/objects.ts";
import { markIngressesReady, serveIdleQueueProxies } from "./host/stand-ins.ts";
import { HostWorkloads } from "./host/workloads.ts";

/** Keeps the cluster's state and the host's in step, once a second; one job's failure never stops the others. */
async function reconcileForever(config: HostConfig, workloads: HostWorkloads): Promise<never> {
    for (;;) {
        await workloads.supervise().catch((error: unknown) => {
            log(`workloads: ${String(error)}`);
        });
        await writeUncheckedCaBundles(config).catch((error: unknown) => {
            log(`CA bundles: ${String(error)}`);
        });
        await markIngressesReady(config);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
}

const configFile = process.argv[2];
if (configFile === undefined) throw new Error("usage: node toolchain/cluster-host.ts <host config file>");
const config = JSON.parse(readFileSync(configFile, "utf8")) as HostConfig;
const workloads = new HostWorkloads(config);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
        workloads.stopAll();
        process.exit(0);
    });
}
const answerers = {
    webhooks: await serveUncheckedWebhooks(config),
    idleQueueProxies: await serveIdleQueueProxies(config),
};
await new ClusterNetwork(config, workloads, answerers).serve();
await reconcileForever(config, workloads);
