/**
 * The simulated cluster's host: what a node's network and container runtime are to the API
 * server, for the calls the API server itself makes into the cluster (admission webhooks, CRD
 * conversion). One process beside the control plane (`node toolchain/cluster-host.ts <file>`):
 *
 * - **The network.** The API server's egress selector sends its "cluster" traffic here, as HTTP
 *   CONNECT over a Unix socket. A Service answers only where something on this host stands in
 *   for its pods, and only while the Service has a ready endpoint, as on a real cluster. Nothing
 *   but loopback is ever dialled: a ClusterIP or pod IP of the simulated cluster leads nowhere.
 * - **Upstream code as pods.** An upstream program whose code builds here (Knative Serving's webhook,
 *   ECK's operator) runs as a host process once its workload has a ready pod and its Services a
 *   ready endpoint, with that pod's arguments, environment and ConfigMap and Secret volumes, and
 *   does what it does on a real cluster (each makes its webhook's certificate and writes its CA
 *   into its webhook configurations itself).
 * - **Admitted without a check.** An upstream webhook whose code is not reachable here is answered
 *   by a TLS server that allows every request and, as the upstream pod does when it starts, writes
 *   its CA into the webhook configurations that name its Service.
 *
 * Each of these is listed in the README's end-to-end section with why it remains.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, type Socket, connect, createServer as createTcpServer } from "node:net";
import { join } from "node:path";
import { type ApiTarget, apiRequest } from "../components/shared/warm/scheduler.ts";
import type { ClusterPieces } from "./toolchain.ts";

/** What the cluster tells its host (written by local-cluster.ts). */
export interface HostConfig {
    dir: string;
    api: string;
    token: string;
    caFile: string;
    kubeconfig: string;
    /** The Unix socket the API server's egress selector connects to. */
    socket: string;
    /** The node's address, which stands for kwok's server on loopback. */
    nodeIp: string;
    /** The toolchain's cluster pieces, where each host workload's binary is. */
    binaries: ClusterPieces;
}

/** A Service port, as "namespace/name:port". */
type ServiceKey = string;

/** An upstream webhook admitted without a check, and why its own code does not answer. */
export interface UncheckedWebhook {
    namespace: string;
    service: string;
    port: number;
    /** Who writes the CA into the webhook configurations on a real cluster (the field manager here). */
    upstream: string;
    why: string;
}

export const UNCHECKED_WEBHOOKS: UncheckedWebhook[] = [
    {
        namespace: "istio-system",
        service: "istiod",
        port: 443,
        upstream: "istiod",
        why: "Istio is not served as a Go module at a release tag: pods are admitted without a sidecar, Istio's objects without validation",
    },
    {
        namespace: "knative-eventing",
        service: "kafka-webhook-eventing",
        port: 443,
        upstream: "kafka-webhook-eventing",
        why: "eventing-kafka-broker is not served as a Go module: the Kafka dispatchers' pods are admitted without its defaulting",
    },
];

/** The certificate files of an unchecked webhook's answerer, in the cluster's directory. */
export function uncheckedWebhookCertificate(webhook: UncheckedWebhook): { name: string; dnsName: string } {
    return {
        name: `webhook-${webhook.namespace}-${webhook.service}`,
        dnsName: `${webhook.service}.${webhook.namespace}.svc`,
    };
}

/** How a host workload is told the port to listen on: an environment variable, or a flag added to its arguments. */
type PortSetting = { env: string } | { flag: string };

/**
 * An upstream workload whose container runs here as a host process while the workload has a ready
 * pod: with the container's arguments and environment, its ConfigMap and Secret volumes written to
 * a directory of the host (and kept current, as the kubelet does), and its listening ports moved to
 * free ones (on a real pod each has the pod's own address).
 */
interface HostWorkload {
    namespace: string;
    kind: "deployments" | "statefulsets";
    name: string;
    container: string;
    /** The toolchain piece it runs. */
    binary: keyof ClusterPieces;
    /** The Service ports it answers, and how its listening port is moved. */
    serves: { service: string; port: number; listen: PortSetting }[];
    /** Other ports it opens. */
    otherPorts: PortSetting[];
    env: Record<string, string>;
}

const HOST_WORKLOADS: HostWorkload[] = [
    {
        namespace: "knative-serving",
        kind: "deployments",
        name: "webhook",
        container: "webhook",
        binary: "knativeServingWebhook",
        serves: [{ service: "webhook", port: 443, listen: { env: "WEBHOOK_PORT" } }],
        otherPorts: [{ env: "PROFILING_PORT" }, { env: "METRICS_PROMETHEUS_PORT" }],
        env: { METRICS_PROMETHEUS_HOST: "127.0.0.1" },
    },
    {
        // The whole operator runs (its validating webhook is served by the manager that reconciles).
        namespace: "elastic-system",
        kind: "statefulsets",
        name: "elastic-operator",
        container: "manager",
        binary: "eckOperator",
        serves: [{ service: "elastic-operator-webhook", port: 443, listen: { flag: "--webhook-port" } }],
        otherPorts: [],
        env: {},
    },
];

/** The fields of Kubernetes objects this host reads. */
interface Service {
    metadata: { name: string; namespace: string };
    spec: { clusterIP?: string; clusterIPs?: string[]; ports?: { port: number }[] };
}
interface EndpointSlice {
    endpoints?: { conditions?: { ready?: boolean } }[];
}
interface WebhookConfiguration {
    metadata: { name: string };
    webhooks?: { clientConfig: { service?: { name: string; namespace: string }; caBundle?: string } }[];
}
interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Volume {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
}
interface Container {
    name: string;
    args?: string[];
    env?: EnvVar[];
    volumeMounts?: { name: string; mountPath: string }[];
}
interface Workload {
    status?: { readyReplicas?: number };
    spec: { template: { spec: { containers: Container[]; volumes?: Volume[] } } };
}
/** A ConfigMap's or Secret's data, as the kubelet writes it into a volume. */
interface VolumeSource {
    data?: Record<string, string>;
}

const serviceKey = (namespace: string, name: string, port: number): ServiceKey => `${namespace}/${name}:${port}`;

/** A ConfigMap or Secret volume of a host workload, and where the host writes it. */
interface Mount {
    mountPath: string;
    hostPath: string;
    source: { kind: string; name: string; encoded: boolean };
}

/** An argument as the host process sees it: a path under a mount point (`--config=/conf/eck.yaml`) moved under the pod's directory. */
function inPod(root: string, mounts: Mount[], arg: string): string {
    const separator = arg.startsWith("-") ? arg.indexOf("=") + 1 : 0;
    const value = arg.slice(separator);
    const mounted = mounts.some(({ mountPath }) => value === mountPath || value.startsWith(`${mountPath}/`));
    return mounted ? `${arg.slice(0, separator)}${join(root, value)}` : arg;
}

/** A TCP port on loopback that nothing listens on now. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createTcpServer();
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo;
            server.close(() => {
                resolve(port);
            });
        });
        server.on("error", reject);
    });
}

class ClusterHost {
    private readonly target: ApiTarget;
    /** Where each Service port is answered on loopback. */
    private readonly answerers = new Map<ServiceKey, number>();
    /** The host workloads running, by "namespace/name". */
    private readonly running = new Map<string, { process: ChildProcess; mounts: Mount[] }>();
    private readonly config: HostConfig;

    constructor(config: HostConfig) {
        this.config = config;
        this.target = { api: config.api, token: config.token, ca: readFileSync(config.caFile) };
    }

    private kube<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
        return apiRequest<T>(this.target, method, path, body, contentType);
    }

    private log(line: string): void {
        process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    }

    /** The API server's way into the cluster: HTTP CONNECT to a ClusterIP (or the node's loopback). */
    async serveNetwork(): Promise<void> {
        rmSync(this.config.socket, { force: true });
        const server = createServer((_request, response) => {
            response.statusCode = 405;
            response.end();
        });
        server.on("connect", (request: IncomingMessage, client: Socket) => {
            const refuse = (status: string) => {
                this.log(`refused CONNECT ${request.url ?? ""}: ${status}`);
                client.end(`HTTP/1.1 ${status.replace(/[\r\n]+/g, " ")}\r\n\r\n`);
            };
            this.route(request.url ?? "").then(
                (route) => {
                    if (typeof route === "string") {
                        refuse(route);
                        return;
                    }
                    const upstream = connect(route, "127.0.0.1", () => {
                        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
                        upstream.pipe(client);
                        client.pipe(upstream);
                    });
                    upstream.on("error", () => {
                        refuse(`503 nothing listens for ${request.url ?? ""} yet`);
                    });
                    client.on("error", () => upstream.destroy());
                },
                (error: unknown) => {
                    refuse(`503 the cluster host could not read the cluster: ${String(error)}`);
                },
            );
        });
        await new Promise<void>((resolve) => server.listen(this.config.socket, resolve));
    }

    /** The loopback port that answers `target` ("ip:port"), or why not, as an HTTP status and reason. */
    private async route(target: string): Promise<number | string> {
        const separator = target.lastIndexOf(":");
        const host = target.slice(0, separator).replace(/^\[|\]$/g, "");
        const port = Number(target.slice(separator + 1));
        // The node (kwok's kubelet server) is on loopback.
        if ([this.config.nodeIp, "127.0.0.1", "localhost", "::1"].includes(host)) return port;
        const services = await this.kube<{ items: Service[] }>("GET", "/api/v1/services");
        const service = services.items.find(
            (s) =>
                (s.spec.clusterIP === host || (s.spec.clusterIPs ?? []).includes(host)) &&
                (s.spec.ports ?? []).some((p) => p.port === port),
        );
        if (service === undefined) return `502 ${target} is no Service port of the simulated cluster`;
        const { name, namespace } = service.metadata;
        const key = serviceKey(namespace, name, port);
        const answerer = this.answerers.get(key);
        if (answerer === undefined) return `503 nothing runs behind ${key} on the simulated cluster`;
        if (!(await this.hasReadyEndpoint(namespace, name))) return `503 ${key} has no ready endpoint`;
        return answerer;
    }

    private async hasReadyEndpoint(namespace: string, name: string): Promise<boolean> {
        const slices = await this.kube<{ items: EndpointSlice[] }>(
            "GET",
            `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${name}`,
        );
        return slices.items.some((slice) => (slice.endpoints ?? []).some((e) => e.conditions?.ready !== false));
    }

    /** Answers each unchecked webhook's Service: every admission request allowed, as nothing checks it. */
    async serveUncheckedWebhooks(): Promise<void> {
        for (const webhook of UNCHECKED_WEBHOOKS) {
            const { name } = uncheckedWebhookCertificate(webhook);
            const server = createHttpsServer(
                {
                    key: readFileSync(join(this.config.dir, `${name}.key`)),
                    cert: readFileSync(join(this.config.dir, `${name}.crt`)),
                },
                (request, response) => {
                    this.allow(request, response);
                },
            );
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            this.answerers.set(
                serviceKey(webhook.namespace, webhook.service, webhook.port),
                (server.address() as AddressInfo).port,
            );
        }
    }

    private allow(request: IncomingMessage, response: ServerResponse): void {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk.toString()));
        request.on("end", () => {
            const review = JSON.parse(body) as { apiVersion: string; request: { uid: string } };
            response.setHeader("content-type", "application/json");
            response.end(
                JSON.stringify({
                    apiVersion: review.apiVersion,
                    kind: "AdmissionReview",
                    response: { uid: review.request.uid, allowed: true },
                }),
            );
        });
    }

    /** As the upstream pod does once it runs: its CA in every webhook configuration that names its Service. */
    private async writeUncheckedCaBundles(): Promise<void> {
        const caBundle = readFileSync(this.config.caFile).toString("base64");
        for (const kind of ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]) {
            const list = await this.kube<{ items: WebhookConfiguration[] }>(
                "GET",
                `/apis/admissionregistration.k8s.io/v1/${kind}`,
            );
            for (const configuration of list.items) {
                for (const [index, webhook] of (configuration.webhooks ?? []).entries()) {
                    const service = webhook.clientConfig.service;
                    const unchecked = UNCHECKED_WEBHOOKS.find(
                        (w) => w.service === service?.name && w.namespace === service.namespace,
                    );
                    if (unchecked === undefined || webhook.clientConfig.caBundle === caBundle) continue;
                    if (!(await this.hasReadyEndpoint(unchecked.namespace, unchecked.service))) continue;
                    await this.kube(
                        "PATCH",
                        `/apis/admissionregistration.k8s.io/v1/${kind}/${configuration.metadata.name}?fieldManager=${unchecked.upstream}`,
                        [{ op: "add", path: `/webhooks/${String(index)}/clientConfig/caBundle`, value: caBundle }],
                        "application/json-patch+json",
                    );
                    this.log(`${unchecked.upstream}: CA written into ${kind}/${configuration.metadata.name}`);
                }
            }
        }
    }

    /** Starts or stops each host workload as it has a ready pod or not, and keeps its volumes current. */
    private async superviseWorkloads(): Promise<void> {
        for (const workload of HOST_WORKLOADS) {
            const id = `${workload.namespace}/${workload.name}`;
            const object = await this.kube<Workload>(
                "GET",
                `/apis/apps/v1/namespaces/${workload.namespace}/${workload.kind}/${workload.name}`,
            ).catch(() => undefined);
            // A simulated pod is ready at once, where a real one takes seconds to start, by which time the rest
            // of its manifest has landed: the process starts once the Services it answers can reach it too.
            const podReady = (object?.status?.readyReplicas ?? 0) > 0;
            const reachable = podReady
                ? await Promise.all(workload.serves.map((s) => this.hasReadyEndpoint(workload.namespace, s.service)))
                : [];
            const wanted = object !== undefined && podReady && reachable.every(Boolean);
            const running = this.running.get(id);
            if (!wanted && running !== undefined) {
                running.process.kill("SIGTERM");
                this.running.delete(id);
                for (const served of workload.serves)
                    this.answerers.delete(serviceKey(workload.namespace, served.service, served.port));
                this.log(`${id}: stopped (it has no ready pod)`);
            }
            if (!wanted) continue;
            if (running === undefined) await this.run(workload, object.spec.template.spec);
            else await this.writeVolumes(workload.namespace, running.mounts);
        }
    }

    /** The container's ConfigMap and Secret volumes, each at its mount path under the pod's directory. */
    private mountsOf(root: string, container: Container, volumes: Volume[]): Mount[] {
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

    /** As the kubelet does: each key of the ConfigMap or Secret is a file, replaced whole when it changes. */
    private async writeVolumes(namespace: string, mounts: Mount[]): Promise<void> {
        for (const { hostPath, source } of mounts) {
            const object = await this.kube<VolumeSource>(
                "GET",
                `/api/v1/namespaces/${namespace}/${source.kind}/${source.name}`,
            ).catch(() => undefined);
            mkdirSync(hostPath, { recursive: true });
            for (const [key, value] of Object.entries(object?.data ?? {})) {
                const content = source.encoded ? Buffer.from(value, "base64") : Buffer.from(value);
                const file = join(hostPath, key);
                if (existsSync(file) && readFileSync(file).equals(content)) continue;
                writeFileSync(`${file}.partial`, content, { mode: 0o600 });
                renameSync(`${file}.partial`, file);
            }
        }
    }

    private async run(workload: HostWorkload, pod: Workload["spec"]["template"]["spec"]): Promise<void> {
        const id = `${workload.namespace}/${workload.name}`;
        const container = pod.containers.find((c) => c.name === workload.container);
        if (container === undefined) throw new Error(`${id} has no container ${workload.container}`);
        const podName = `${workload.name}-host`;
        // The pod's filesystem is a directory here: its volumes are written under it, and the paths in its
        // arguments and its temporary directory point into it.
        const root = join(this.config.dir, "pods", `${workload.namespace}-${workload.name}`);
        mkdirSync(join(root, "tmp"), { recursive: true });
        const mounts = this.mountsOf(root, container, pod.volumes ?? []);
        await this.writeVolumes(workload.namespace, mounts);
        const env: Record<string, string> = {
            PATH: process.env.PATH ?? "",
            KUBECONFIG: this.config.kubeconfig,
            TMPDIR: join(root, "tmp"),
            ...workload.env,
        };
        for (const variable of container.env ?? []) {
            const field = variable.valueFrom?.fieldRef?.fieldPath;
            if (variable.value !== undefined) env[variable.name] = variable.value;
            else if (field === "metadata.namespace") env[variable.name] = workload.namespace;
            else if (field === "metadata.name") env[variable.name] = podName;
            else if (field === "status.podIP") env[variable.name] = "127.0.0.1";
        }
        const args = (container.args ?? []).map((arg) => inPod(root, mounts, arg));
        const ports = new Map<PortSetting, number>();
        for (const setting of [...workload.serves.map((s) => s.listen), ...workload.otherPorts]) {
            const port = await freePort();
            ports.set(setting, port);
            if ("env" in setting) env[setting.env] = String(port);
            else args.push(`${setting.flag}=${String(port)}`);
        }
        const binary = this.config.binaries[workload.binary];
        const log = openSync(join(this.config.dir, `host-${workload.namespace}-${workload.name}.log`), "a");
        const child = spawn(binary, args, { env, stdio: ["ignore", log, log] });
        child.on("exit", (code) => {
            this.log(`${id}: exited with ${String(code)}`);
            if (this.running.get(id)?.process === child) this.running.delete(id);
        });
        this.running.set(id, { process: child, mounts });
        for (const served of workload.serves) {
            this.answerers.set(
                serviceKey(workload.namespace, served.service, served.port),
                ports.get(served.listen) ?? 0,
            );
        }
        this.log(`${id}: running ${binary} ${args.join(" ")} as pod ${podName}`);
    }

    /** Keeps the cluster's state and the host's in step, once a second. */
    async reconcileForever(): Promise<never> {
        for (;;) {
            await this.superviseWorkloads().catch((error: unknown) => {
                this.log(`workloads: ${String(error)}`);
            });
            await this.writeUncheckedCaBundles().catch((error: unknown) => {
                this.log(`CA bundles: ${String(error)}`);
            });
            await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
    }

    stopAll(): void {
        for (const { process } of this.running.values()) process.kill("SIGTERM");
    }
}

if (import.meta.main) {
    const configFile = process.argv[2];
    if (configFile === undefined) throw new Error("usage: node toolchain/cluster-host.ts <host config file>");
    const host = new ClusterHost(JSON.parse(readFileSync(configFile, "utf8")) as HostConfig);
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
        process.on(signal, () => {
            host.stopAll();
            process.exit(0);
        });
    }
    await host.serveUncheckedWebhooks();
    await host.serveNetwork();
    await host.reconcileForever();
}
