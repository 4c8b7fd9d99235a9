/**
 * The local simulated cluster: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
 * as a real control plane on loopback, and kwok playing one node. Objects are stored, validated,
 * defaulted, garbage-collected and scheduled as on a real cluster; kwok marks scheduled pods
 * Running and Ready (and a Job's pods Succeeded), finishes their deletion, and plays the cloud's
 * load balancer: a LoadBalancer Service gets an ingress address, as on a cloud or with MetalLB.
 * There is no container runtime: no image is pulled, no container runs, nothing serves traffic.
 *
 * Its state (certificates, ports, etcd data, logs, process ids) lives in one directory, so the
 * processes outlive the command that started them: `npm run up` and a later `npm run preview`
 * talk to the same cluster. Ports and certificates are chosen once, so the kubeconfig, and with
 * it the Kubernetes provider's inputs, stay the same across restarts.
 */
import { execFileSync, spawn } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeCredentials, kubeconfigOf, signCertificate } from "./cluster-credentials.ts";
import { UNCHECKED_WEBHOOKS, uncheckedWebhookCertificate } from "./host/admission.ts";
import type { HostConfig } from "./host/objects.ts";
import { kube } from "./kube-api.ts";
import { acceptsConnections } from "./pod-sandbox.ts";
import { type ClusterPieces, toolchain } from "./toolchain.ts";
import type { NodePool } from "../components/platform/config/index.ts";

/** How to reach a running local cluster. */
export interface LocalCluster {
    dir: string;
    api: string;
    token: string;
    caFile: string;
    kubeconfig: string;
    kubernetesVersion: string;
}

export interface ClusterState {
    ports: Record<"etcdClient" | "etcdPeer" | "api" | "scheduler" | "controllerManager" | "kwok", number>;
    token: string;
    pids: Record<string, number>;
}

/** The first node kwok plays (of `kwok-node-0` … `kwok-node-<n-1>`). */
export const NODE_NAME = "kwok-node-0";
/**
 * The nodes of a cluster that stands for no environment: one, with room for anything a test deploys.
 * An environment's world has the node pool its stack file declares instead.
 */
export const ROOMY_POOL: NodePool = { nodes: 1, cpu: "64", memory: "256Gi" };
/** The cluster's default StorageClass. */
export const DEFAULT_STORAGE_CLASS = "standard";
const STATE_FILE = "cluster.json";
export const STORAGE_CLASSES = "/apis/storage.k8s.io/v1/storageclasses";

/**
 * A StorageClass of the simulated cluster, which nothing provisions: no volume is ever bound here, and kwok runs
 * the pods that mount one all the same. `POST` it to {@link STORAGE_CLASSES}.
 */
export function unprovisionedStorageClass(name: string, isDefault = false): object {
    return {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: {
            name,
            ...(isDefault ? { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } : {}),
        },
        provisioner: "kubernetes.io/no-provisioner",
        volumeBindingMode: "WaitForFirstConsumer",
    };
}

/**
 * A kwok stage that answers for the cloud's load balancer: a LoadBalancer Service gets loopback as
 * its ingress address, so what waits for one (the Kubernetes provider, for the ingress gateway)
 * sees what a cloud cluster shows.
 */
const LOAD_BALANCER_STAGE = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: service-load-balancer
spec:
  resourceRef:
    apiGroup: v1
    kind: Service
  selector:
    matchExpressions:
    - key: .spec.type
      operator: In
      values: [LoadBalancer]
    - key: .status.loadBalancer.ingress
      operator: DoesNotExist
  next:
    statusTemplate: |
      loadBalancer:
        ingress:
        - ip: 127.0.0.1
`;

/**
 * The node's address: a documentation address (TEST-NET-1, RFC 5737) that routes nowhere. The API
 * server reaches the node through the cluster host, which answers for it on loopback (kwok's
 * server); an EndpointSlice of a host-network pod (node-exporter) may not hold a loopback address.
 */
const NODE_IP = "192.0.2.10";

/** The cluster's pod range, routed through the cluster host; node i gives its pods IPs from 10.244.16i.0/20. */
const POD_CIDR = "10.244.0.0/16";
const MAX_NODES = 16;

/** The cluster host's socket, in the cluster's directory (see cluster-host.ts). */
const HOST_SOCKET = "host.sock";

/** The API server's egress: its "cluster" traffic goes to the cluster host as HTTP CONNECT. */
function egressSelector(socket: string): string {
    return `apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: ${socket}
`;
}

/**
 * Starts the cluster host (cluster-host.ts): the API server's network into the cluster, the
 * upstream webhooks run here, and the answerers of those admitted without a check (whose serving
 * certificates, for their Services' names, are signed once by the cluster's CA).
 */
function startHost(
    dir: string,
    cluster: LocalCluster,
    pieces: ClusterPieces,
    start: (name: string, command: string, args: string[]) => number,
): void {
    try {
        execFileSync(
            "unshare",
            ["--net", "--mount", "--pid", "--fork", "--mount-proc", "ip", "link", "set", "lo", "up"],
            {
                stdio: "ignore",
            },
        );
    } catch {
        throw new Error(
            "local cluster: its host runs each upstream program in network, mount and PID namespaces of its own " +
                "(util-linux's unshare and iproute2's ip, as root), and this machine could not make them",
        );
    }
    for (const webhook of UNCHECKED_WEBHOOKS) {
        const { name, dnsName } = uncheckedWebhookCertificate(webhook);
        if (!existsSync(join(dir, `${name}.crt`))) signCertificate(dir, name, `/CN=${dnsName}`, `DNS:${dnsName}`);
    }
    const config: HostConfig = {
        dir,
        api: cluster.api,
        token: cluster.token,
        caFile: cluster.caFile,
        socket: join(dir, HOST_SOCKET),
        nodeIp: NODE_IP,
        podCidr: POD_CIDR,
        binaries: pieces,
    };
    writeFileSync(join(dir, "host.json"), JSON.stringify(config), { mode: 0o600 });
    start("cluster-host", process.execPath, [
        fileURLToPath(new URL("./cluster-host.ts", import.meta.url)),
        join(dir, "host.json"),
    ]);
}

/** The fields of a Node this module reads. */
interface KubeNode {
    status?: { conditions?: { type: string; status: string }[] };
    spec?: { taints?: { key: string }[] };
}

/** Whether a process with this id runs (a signal 0 reaches it). */
export function alive(pid: number | undefined): boolean {
    if (pid === undefined) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** Whether every process of the cluster runs (a stopped cluster has none recorded). */
function running(state: ClusterState): boolean {
    const pids = Object.values(state.pids);
    return pids.length > 0 && pids.every(alive);
}

/** The cluster's state file: its ports, credentials and the processes it runs. */
export function readState(dir: string): ClusterState | undefined {
    const file = join(dir, STATE_FILE);
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClusterState) : undefined;
}

function writeState(dir: string, state: ClusterState): void {
    writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
}

function clusterOf(dir: string, state: ClusterState, kubernetesVersion: string): LocalCluster {
    return {
        dir,
        api: `https://127.0.0.1:${state.ports.api}`,
        token: state.token,
        caFile: join(dir, "ca.crt"),
        kubeconfig: join(dir, "kubeconfig"),
        kubernetesVersion,
    };
}

/** A TCP port on loopback that nothing listens on now. */
function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo;
            server.close(() => {
                resolve(port);
            });
        });
        server.on("error", reject);
    });
}

/** Polls `check` every 250 ms until it holds; fails with the component's log after two minutes. */
async function waitFor(
    what: string,
    check: () => Promise<boolean>,
    pid: number | undefined,
    logFile: string,
): Promise<void> {
    for (let attempt = 0; attempt < 480; attempt++) {
        if (await check().catch(() => false)) return;
        if (pid !== undefined && !alive(pid)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4_000) : "(no log)";
    throw new Error(`local cluster: ${what} did not come up; the end of ${logFile}:\n${log}`);
}

/** Starts the cluster in `dir` (creating it on first use); returns at once when it is already running. */
export async function startLocalCluster(
    dir: string,
    say: (line: string) => void = () => {},
    pool: NodePool = ROOMY_POOL,
): Promise<LocalCluster> {
    const pieces = toolchain("cluster");
    mkdirSync(dir, { recursive: true });
    let state = readState(dir);
    if (state !== undefined && running(state)) {
        return clusterOf(dir, state, pieces.kubernetesVersion);
    }
    if (state !== undefined) await stopProcesses(state);
    if (state === undefined) {
        say(`local cluster: creating it in ${dir}`);
        const token = makeCredentials(dir);
        const ports = {
            etcdClient: await freePort(),
            etcdPeer: await freePort(),
            api: await freePort(),
            scheduler: await freePort(),
            controllerManager: await freePort(),
            kwok: await freePort(),
        };
        state = { ports, token, pids: {} };
        writeFileSync(
            join(dir, "kubeconfig"),
            kubeconfigOf(`https://127.0.0.1:${ports.api}`, readFileSync(join(dir, "ca.crt"), "utf8"), token),
            { mode: 0o600 },
        );
    } else {
        say(`local cluster: starting it again from ${dir}`);
    }
    const cluster = clusterOf(dir, state, pieces.kubernetesVersion);
    await startProcesses(dir, state, pieces, cluster, pool);
    say(
        `local cluster: Kubernetes ${pieces.kubernetesVersion} (simulated nodes, no container runtime) at ${cluster.api}`,
    );
    return cluster;
}

async function startProcesses(
    dir: string,
    state: ClusterState,
    pieces: ClusterPieces,
    cluster: LocalCluster,
    pool: NodePool,
): Promise<void> {
    const { ports } = state;
    const start = (name: string, command: string, args: string[]): number => {
        const log = openSync(join(dir, `${name}.log`), "a");
        const child = spawn(command, args, { cwd: dir, detached: true, stdio: ["ignore", log, log] });
        child.unref();
        if (child.pid === undefined) throw new Error(`local cluster: could not start ${command}`);
        state.pids[name] = child.pid;
        writeState(dir, state);
        return child.pid;
    };
    const ready = (name: string, check: () => Promise<boolean>) =>
        waitFor(name, check, state.pids[name], join(dir, `${name}.log`));

    start("etcd", pieces.etcd, [
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${ports.etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=default=http://127.0.0.1:${ports.etcdPeer}`,
        "--listen-metrics-urls=",
    ]);
    await ready("etcd", async () => (await fetch(`http://127.0.0.1:${ports.etcdClient}/health`)).ok);

    writeFileSync(join(dir, "egress-selector.yaml"), egressSelector(join(dir, HOST_SOCKET)));
    start("kube-apiserver", pieces["kube-apiserver"], [
        `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${ports.api}`,
        `--tls-cert-file=${join(dir, "apiserver.crt")}`,
        `--tls-private-key-file=${join(dir, "apiserver.key")}`,
        `--client-ca-file=${join(dir, "ca.crt")}`,
        `--token-auth-file=${join(dir, "tokens.csv")}`,
        `--service-account-key-file=${join(dir, "sa.pub")}`,
        `--service-account-signing-key-file=${join(dir, "sa.key")}`,
        "--service-account-issuer=https://kubernetes.default.svc",
        "--service-cluster-ip-range=10.96.0.0/16",
        // Every call into the cluster (webhooks, CRD conversion, the node) goes through the cluster host,
        // which answers on loopback or refuses: no Service address of the simulated cluster is ever dialled.
        `--egress-selector-config-file=${join(dir, "egress-selector.yaml")}`,
        "--authorization-mode=Node,RBAC",
        // Istio's CNI agent is privileged, as on a real cluster; Pod Security admission still applies per namespace.
        "--allow-privileged=true",
    ]);
    await ready("kube-apiserver", async () => (await kube(cluster, "GET", "/readyz")) === "ok");

    startHost(dir, cluster, pieces, start);

    const common = [`--kubeconfig=${cluster.kubeconfig}`, "--leader-elect=false", "--bind-address=127.0.0.1"];
    start("kube-controller-manager", pieces["kube-controller-manager"], [
        ...common,
        `--secure-port=${ports.controllerManager}`,
        // No cloud, no node IPAM, no volumes to attach or bind: everything else runs, the garbage
        // collector and node lifecycle (which lifts the not-ready taint) among them.
        "--controllers=*,-nodeipam,-cloud-node-lifecycle,-persistentvolume-binder,-attachdetach",
        `--service-account-private-key-file=${join(dir, "sa.key")}`,
        `--root-ca-file=${join(dir, "ca.crt")}`,
        `--cluster-signing-cert-file=${join(dir, "ca.crt")}`,
        `--cluster-signing-key-file=${join(dir, "ca.key")}`,
    ]);
    start("kube-scheduler", pieces["kube-scheduler"], [...common, `--secure-port=${ports.scheduler}`]);
    writeFileSync(join(dir, "load-balancer-stage.yaml"), LOAD_BALANCER_STAGE);
    start("kwok", pieces.kwok, [
        `--kubeconfig=${cluster.kubeconfig}`,
        `--config=${pieces.kwokStages}`,
        `--config=${join(dir, "load-balancer-stage.yaml")}`,
        "--manage-all-nodes=true",
        `--server-address=127.0.0.1:${ports.kwok}`,
        `--node-ip=${NODE_IP}`,
    ]);

    // The pool's nodes, made once: a cluster started again keeps the nodes it was made with.
    if (pool.nodes > MAX_NODES) {
        throw new Error(
            `local cluster: at most ${String(MAX_NODES)} nodes fit its pod range (asked for ${String(pool.nodes)})`,
        );
    }
    const nodes = Array.from({ length: pool.nodes }, (_, i) => `kwok-node-${String(i)}`);
    const existing = await kube<{ items: unknown[] }>(cluster, "GET", "/api/v1/nodes");
    if (existing.items.length === 0) {
        const capacity = { cpu: pool.cpu, memory: pool.memory, pods: "250", "ephemeral-storage": "1Ti" };
        for (const [i, name] of nodes.entries()) {
            const podCidr = `10.244.${String(16 * i)}.0/20`;
            await kube(cluster, "POST", "/api/v1/nodes", {
                apiVersion: "v1",
                kind: "Node",
                metadata: {
                    name,
                    annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
                    labels: {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        type: "kwok",
                    },
                },
                spec: { podCIDR: podCidr, podCIDRs: [podCidr] },
                status: { capacity, allocatable: capacity },
            });
        }
    }
    // A cluster's default StorageClass, as kind's "standard" is: what a stack's volumes claim unless it names a class.
    const storageClasses = await kube<{ items: unknown[] }>(cluster, "GET", STORAGE_CLASSES);
    if (storageClasses.items.length === 0) {
        await kube(cluster, "POST", STORAGE_CLASSES, unprovisionedStorageClass(DEFAULT_STORAGE_CLASS, true));
    }
    await ready("kwok", async () => {
        const current = await kube<{ items: KubeNode[] }>(cluster, "GET", "/api/v1/nodes");
        return current.items.every((node) => {
            const readyCondition = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
            const notReadyTaint = (node.spec?.taints ?? []).some((t) =>
                t.key.startsWith("node.kubernetes.io/not-ready"),
            );
            return readyCondition?.status === "True" && !notReadyTaint;
        });
    });
    // The service-account controller runs: pods can be admitted.
    await ready(
        "kube-controller-manager",
        async () => (await kube(cluster, "GET", "/api/v1/namespaces/default/serviceaccounts/default")) !== undefined,
    );
    // The API server reaches Services (webhooks among them) through the host: until it listens, every such call
    // fails (CI's cluster-host test met `dial unix …/host.sock: no such file or directory`).
    await ready("cluster-host", () => acceptsConnections({ path: join(dir, HOST_SOCKET) }));
}

async function stopProcesses(state: ClusterState): Promise<void> {
    // In reverse order of start: the node and controllers first, etcd last.
    for (const pid of Object.values(state.pids).reverse()) {
        if (alive(pid)) {
            process.kill(-pid, "SIGTERM");
            for (let i = 0; i < 40 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 250));
        }
        // What the process started and may have left behind (a host workload's sandbox) goes with its group.
        try {
            process.kill(-pid, "SIGKILL");
        } catch {
            // The group is gone already.
        }
    }
    state.pids = {};
}

/** Stops the cluster's processes; `remove` also deletes its state (etcd data, certificates, logs). */
export async function stopLocalCluster(dir: string, options: { remove?: boolean } = {}): Promise<void> {
    const state = readState(dir);
    if (state !== undefined) {
        await stopProcesses(state);
        writeState(dir, state);
    }
    if (options.remove === true) rmSync(dir, { recursive: true, force: true });
}

/** Whether the cluster in `dir` runs, and where. */
export async function localClusterStatus(
    dir: string,
): Promise<{ state: "absent" | "stopped" | "running"; api?: string }> {
    const state = readState(dir);
    if (state === undefined) return { state: "absent" };
    const api = `https://127.0.0.1:${state.ports.api}`;
    if (!running(state)) return { state: "stopped", api };
    const ok = await kube({ api, token: state.token, caFile: join(dir, "ca.crt") }, "GET", "/readyz").catch(
        () => undefined,
    );
    return { state: ok === "ok" ? "running" : "stopped", api };
}
