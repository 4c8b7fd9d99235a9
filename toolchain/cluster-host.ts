/**
 * The simulated cluster's host: what a node's network and container runtime are to the cluster.
 * One process beside the control plane (`node toolchain/cluster-host.ts <file>`):
 *
 * - **The network.** The API server's egress selector and every pod sandbox send their traffic
 *   into the cluster here, as HTTP CONNECT over a Unix socket; the sandboxes' nameservers ask it
 *   for cluster DNS. A ClusterIP reaches a ready endpoint of its Service, a pod IP that pod's
 *   program if one runs here; anything else is refused with the reason. Nothing but loopback and
 *   the sandboxes' sockets is ever dialled: a ClusterIP or pod IP leads nowhere on this machine.
 * - **Upstream code as pods.** An upstream program whose code builds here (Knative Serving's
 *   controller, autoscaler, activator and webhook, ECK's operator) runs
 *   once its workload has a ready pod, as that pod, in a sandbox of its own (pod-sandbox.ts), with
 *   the pod's arguments, environment, ConfigMap and Secret volumes and service account token, and
 *   does what it does on a real cluster, with the permissions its manifest or chart gives it.
 * - **Stand-ins.** An upstream webhook whose code is not reachable here is answered by a TLS
 *   server that allows every request and, as the upstream pod does when it starts, writes its CA
 *   into the webhook configurations that name its Service; istiod's sidecar injection is answered
 *   from the installed chart's own templates (sidecar-injection.ts). Knative's networking Ingresses are
 *   marked ready as net-istio marks them, and revision pods' queue-proxies answer the autoscaler's
 *   scrapes as idle ones do.
 *
 * Each of these is listed in the README's stand-in table with why it remains.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, BlockList, type Socket, connect, createServer as createTcpServer, isIPv4 } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ApiTarget, apiRequest } from "../components/shared/warm/scheduler.ts";
import { type SandboxSpec, portSocket } from "./pod-sandbox.ts";
import { INJECTION_PATH, injectSidecar } from "./sidecar-injection.ts";
import type { ClusterPieces } from "./toolchain.ts";

const SANDBOX = fileURLToPath(new URL("./pod-sandbox.ts", import.meta.url));

/** What the cluster tells its host (written by local-cluster.ts). */
export interface HostConfig {
    dir: string;
    api: string;
    token: string;
    caFile: string;
    /** The Unix socket the API server's egress selector connects to. */
    socket: string;
    /** The node's address, which stands for kwok's server on loopback. */
    nodeIp: string;
    /** The pod network's range (kwok's), which host workloads' sandboxes route through this host. */
    podCidr: string;
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
        why: "Istio is not served as a Go module at a release tag: Istio's objects are admitted without validation; pods get their sidecar from istio-injector (sidecar-injection.ts)",
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

/**
 * An upstream workload whose container runs here while the workload has a ready pod: in a pod
 * sandbox (pod-sandbox.ts) with that pod's name and IP, the container's arguments and environment,
 * and its ConfigMap and Secret volumes written to a directory of the host (and kept current, as the
 * kubelet does). Traffic the cluster sends to the pod's IP reaches it; each listens on its
 * container's own ports.
 */
interface HostWorkload {
    namespace: string;
    kind: "deployments" | "statefulsets";
    name: string;
    container: string;
    /** The toolchain piece it runs. */
    binary: keyof ClusterPieces;
    /** Ports it dials on other pods' IPs. */
    podPorts?: number[];
    /** Environment on top of the container's, and why. */
    env?: Record<string, string>;
}

/** The port a revision pod's queue-proxy serves the autoscaler's metrics on (networking.AutoscalingQueueMetricsPort). */
const QUEUE_METRICS_PORT = 9090;

const knativeServing = (
    name: string,
    binary: keyof ClusterPieces,
    extra: Partial<HostWorkload> = {},
): HostWorkload => ({
    namespace: "knative-serving",
    kind: "deployments",
    name,
    container: name,
    binary,
    ...extra,
});

const HOST_WORKLOADS: HostWorkload[] = [
    knativeServing("webhook", "knativeServingWebhook"),
    knativeServing("controller", "knativeServingController"),
    // It scrapes each revision pod's queue-proxy on the pod's IP; its own metrics port moves off that port
    // number, which in this sandbox relays to the other pods.
    knativeServing("autoscaler", "knativeServingAutoscaler", {
        podPorts: [QUEUE_METRICS_PORT],
        env: { METRICS_PROMETHEUS_PORT: "9091" },
    }),
    knativeServing("activator", "knativeServingActivator"),
    {
        // The whole operator runs (its validating webhook is served by the manager that reconciles).
        namespace: "elastic-system",
        kind: "statefulsets",
        name: "elastic-operator",
        container: "manager",
        binary: "eckOperator",
    },
    {
        // kube-prometheus-stack's operator: renders Prometheus's scrape configuration from the monitors.
        namespace: "monitoring",
        kind: "deployments",
        name: "prometheus-stack-operator",
        container: "kube-prometheus-stack",
        binary: "prometheusOperator",
    },
];

/** How long a call to a host workload's pod waits for its program to serve the port (a webhook call times out at 10 s). */
const PORT_READY_SECONDS = 8;

/** How long a projected service account token lives; it is renewed at 80% of that, as the kubelet does. */
const TOKEN_SECONDS = 3600;

/** The fields of Kubernetes objects this host reads. */
interface Service {
    metadata: { name: string; namespace: string };
    spec: {
        type?: string;
        clusterIP?: string;
        clusterIPs?: string[];
        externalName?: string;
        ports?: { name?: string; port: number }[];
    };
}
interface EndpointSlice {
    ports?: { name?: string; port?: number }[];
    endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
}
interface Pod {
    metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
    status?: { podIP?: string; startTime?: string; conditions?: { type: string; status: string }[] };
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
/** A probe's port: a number, or the name of one of the container's ports. */
interface Probe {
    httpGet?: { port: number | string };
    tcpSocket?: { port: number | string };
}
interface Container {
    name: string;
    args?: string[];
    ports?: { name?: string; containerPort: number }[];
    readinessProbe?: Probe;
    env?: EnvVar[];
    volumeMounts?: { name: string; mountPath: string }[];
}
interface Workload {
    spec: {
        selector: { matchLabels?: Record<string, string> };
        template: {
            spec: {
                containers: Container[];
                volumes?: Volume[];
                serviceAccountName?: string;
                automountServiceAccountToken?: boolean;
            };
        };
    };
}
interface KnativeIngress {
    metadata: { name: string; namespace: string; generation: number };
    status?: { observedGeneration?: number };
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

/** A protobuf varint. */
function varint(value: number): number[] {
    const bytes: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
        bytes.push((rest % 0x80) | 0x80);
        rest = Math.floor(rest / 0x80);
    }
    return [...bytes, rest];
}

/** Knative's Stat message (pkg/autoscaler/metrics/stat.proto) of an idle pod: zeros are not encoded in proto3. */
function idleStat(podName: string, uptimeSeconds: number): Buffer {
    const name = Buffer.from(podName);
    const uptime = Buffer.alloc(8);
    uptime.writeDoubleLE(uptimeSeconds);
    return Buffer.concat([
        Buffer.from([(1 << 3) | 2, ...varint(name.length)]), // pod_name
        name,
        Buffer.from([(6 << 3) | 1]), // process_uptime, a double
        uptime,
        Buffer.from([(7 << 3) | 0, ...varint(Math.floor(Date.now() / 1000))]), // timestamp
    ]);
}

/** A TCP port on loopback that nothing listens on now. */
/** The part of an AdmissionReview request a webhook here reads. */
export interface AdmissionReview {
    apiVersion: string;
    request: { uid: string; dryRun?: boolean };
}

/** Reads the AdmissionReview the API server posts to a webhook. */
export function admissionReviewOf(request: IncomingMessage): Promise<AdmissionReview> {
    return new Promise((resolve, reject) => {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk.toString()));
        request.on("end", () => {
            try {
                resolve(JSON.parse(body) as AdmissionReview);
            } catch (error) {
                reject(error instanceof Error ? error : new Error(String(error)));
            }
        });
    });
}

/** Answers an AdmissionReview: allowed, unchanged. */
export function allowAdmission(response: ServerResponse, review: AdmissionReview): void {
    response.setHeader("content-type", "application/json");
    response.end(
        JSON.stringify({
            apiVersion: review.apiVersion,
            kind: "AdmissionReview",
            response: { uid: review.request.uid, allowed: true },
        }),
    );
}

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

/** Where the host connects a route: a loopback port, or a Unix socket (a sandbox's port). */
type Route = { port: number } | { path: string };

/** A host workload running: its sandbox process, its pod, its volumes and its service account token. */
interface Running {
    process: ChildProcess;
    pod: Pod;
    dir: string;
    mounts: Mount[];
    /** The service account its token is for, if its pod mounts one. */
    serviceAccount: string | undefined;
    /** When its token is renewed (ms since the epoch). */
    renewTokenAt: number;
    /** The port its readiness probe checks, if it has one: the program is ready once it serves that port. */
    readinessPort: number | undefined;
}

/** The port a container's readiness probe checks (a named port resolved), if it has a probe on a port. */
function readinessPort(container: Container): number | undefined {
    const port = container.readinessProbe?.httpGet?.port ?? container.readinessProbe?.tcpSocket?.port;
    if (typeof port === "number") return port;
    return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** Whether a program serves its readiness probe's port (a program with no probe is ready once it runs). */
function isReady({ dir, readinessPort }: Running): boolean {
    return readinessPort === undefined || existsSync(portSocket(dir, readinessPort));
}

class ClusterHost {
    private readonly target: ApiTarget;
    /** Where each unchecked webhook's Service port is answered on loopback. */
    private readonly answerers = new Map<ServiceKey, number>();
    /** The loopback port of the idle queue-proxies' stand-in. */
    private queueProxyStandIn = 0;
    /** The host workloads running, by "namespace/name". */
    private readonly running = new Map<string, Running>();
    /**
     * A rolled-out workload's previous program, by "namespace/name": it answers until its successor is
     * ready, as the old pod of a rollout stays in its Service until the new pod passes its readiness probe.
     */
    private readonly retiring = new Map<string, Running>();
    private readonly config: HostConfig;
    /** The pods' addresses: one of them is never a Service's. */
    private readonly podAddresses = new BlockList();

    constructor(config: HostConfig) {
        this.config = config;
        this.target = { api: config.api, token: config.token, ca: readFileSync(config.caFile) };
        const [network = "", prefix = ""] = config.podCidr.split("/");
        this.podAddresses.addSubnet(network, Number(prefix), "ipv4");
    }

    private kube<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
        return apiRequest<T>(this.target, method, path, body, contentType);
    }

    private log(line: string): void {
        process.stdout.write(`${new Date().toISOString()} ${line}\n`);
    }

    /**
     * The cluster's network as seen from the host: HTTP CONNECT to a ClusterIP, a pod IP or the node
     * (from the API server's egress and the sandboxes), and cluster DNS (`GET /dns/<name>`, from the
     * sandboxes' nameservers).
     */
    async serveNetwork(): Promise<void> {
        rmSync(this.config.socket, { force: true });
        const server = createServer((request, response) => {
            const name = /^\/dns\/(.+)$/.exec(request.url ?? "")?.[1];
            if (request.method !== "GET" || name === undefined) {
                response.statusCode = 405;
                response.end();
                return;
            }
            this.resolve(decodeURIComponent(name)).then(
                (answer) => {
                    response.statusCode = answer === undefined ? 404 : 200;
                    response.end(JSON.stringify(answer ?? {}));
                },
                () => {
                    response.statusCode = 503;
                    response.end();
                },
            );
        });
        server.on("connect", (request: IncomingMessage, client: Socket) => {
            let upstream: Socket | undefined;
            // The caller may hang up while its route is looked up or its pod starts (a webhook call gives up
            // after its timeout): that ends this tunnel, never the host.
            client.on("error", () => upstream?.destroy());
            const refuse = (status: string) => {
                this.log(`refused CONNECT ${request.url ?? ""}: ${status}`);
                if (client.writable) client.end(`HTTP/1.1 ${status.replace(/[\r\n]+/g, " ")}\r\n\r\n`);
            };
            this.route(request.url ?? "").then(
                (route) => {
                    if (typeof route === "string") {
                        refuse(route);
                        return;
                    }
                    if (!client.writable) return;
                    const tunnel = connect(
                        "port" in route ? { port: route.port, host: "127.0.0.1" } : { path: route.path },
                        () => {
                            client.write("HTTP/1.1 200 Connection established\r\n\r\n");
                            tunnel.pipe(client);
                            client.pipe(tunnel);
                        },
                    );
                    tunnel.on("error", () => {
                        refuse(`503 nothing listens for ${request.url ?? ""} yet`);
                    });
                    upstream = tunnel;
                },
                (error: unknown) => {
                    refuse(`503 the cluster host could not read the cluster: ${String(error)}`);
                },
            );
        });
        await new Promise<void>((resolve) => server.listen(this.config.socket, resolve));
    }

    /** Cluster DNS: a Service's ClusterIP and ports (an ExternalName inside the cluster followed once). */
    private async resolve(name: string, follow = true): Promise<{ ip: string; ports: number[] } | undefined> {
        const match = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local\.?$/.exec(name);
        if (match === null) return undefined;
        const service = await this.kube<Service>("GET", `/api/v1/namespaces/${match[2]}/services/${match[1]}`).catch(
            () => undefined,
        );
        if (service?.spec.type === "ExternalName" && follow)
            return this.resolve(service.spec.externalName ?? "", false);
        const ip = service?.spec.clusterIP;
        if (ip === undefined || ip === "None" || ip === "") return undefined;
        return { ip, ports: (service?.spec.ports ?? []).map((p) => p.port) };
    }

    /** Where `target` ("ip:port") is answered, or why not, as an HTTP status and reason. */
    private async route(target: string): Promise<Route | string> {
        const separator = target.lastIndexOf(":");
        const host = target.slice(0, separator).replace(/^\[|\]$/g, "");
        const port = Number(target.slice(separator + 1));
        // The node (kwok's kubelet server) and the API server are on loopback.
        if ([this.config.nodeIp, "127.0.0.1", "localhost", "::1"].includes(host)) return { port };
        // Probes, scrapes and the activator dial pods many times a second: only a ClusterIP needs the Services read.
        if (isIPv4(host) && this.podAddresses.check(host, "ipv4")) return this.routeToPod(host, port);
        const services = await this.kube<{ items: Service[] }>("GET", "/api/v1/services");
        const service = services.items.find(
            (s) =>
                (s.spec.clusterIP === host || (s.spec.clusterIPs ?? []).includes(host)) &&
                (s.spec.ports ?? []).some((p) => p.port === port),
        );
        if (service === undefined) return this.routeToPod(host, port);
        const { name, namespace } = service.metadata;
        const key = serviceKey(namespace, name, port);
        const endpoint = await this.readyEndpoint(
            namespace,
            name,
            service.spec.ports?.find((p) => p.port === port),
        );
        if (endpoint === undefined) return `503 ${key} has no ready endpoint`;
        const answerer = this.answerers.get(key);
        if (answerer !== undefined) return { port: answerer };
        return this.routeToPod(endpoint.ip, endpoint.port, key);
    }

    /**
     * A pod's port (reached through `service`, if so): its sandbox's, if a host workload runs as that pod, or
     * the queue-proxies' stand-in. Kwok makes a pod Ready at once, before the host has started its program
     * or the program listens; on a real cluster its readiness probe would keep it out of the Service until
     * it serves. So a rollout's new pod is answered by its predecessor's program until its own serves the
     * port, and a first pod's caller waits, a while, for its program.
     */
    private async routeToPod(ip: string, port: number, service?: ServiceKey): Promise<Route | string> {
        const serving = () => {
            const programs = [...this.running.entries(), ...this.retiring.entries()];
            const [id, program] = programs.find(([, r]) => r.pod.status?.podIP === ip) ?? [];
            if (id === undefined) return undefined;
            return [program, this.retiring.get(id)]
                .map((answerer) => answerer && portSocket(answerer.dir, port))
                .find((path) => path !== undefined && existsSync(path));
        };
        if (serving() === undefined && (await this.isHostWorkloadPod(ip))) {
            for (let waited = 0; waited < PORT_READY_SECONDS * 10 && serving() === undefined; waited++) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
        }
        const path = serving();
        if (path !== undefined) return { path };
        if (port === QUEUE_METRICS_PORT && (await this.revisionPod(ip)) !== undefined)
            return { port: this.queueProxyStandIn };
        const behind = service === undefined ? "" : `${service}, `;
        return `503 nothing runs behind ${behind}pod ${ip}:${String(port)} on the simulated cluster (no container runs)`;
    }

    /** The pods with this IP (one, unless a finished pod's IP was reused). */
    private async podsAt(ip: string): Promise<Pod[]> {
        const pods = await this.kube<{ items: Pod[] }>(
            "GET",
            `/api/v1/pods?fieldSelector=status.podIP%3D${encodeURIComponent(ip)}`,
        );
        return pods.items;
    }

    /** The Knative revision pod with this IP, if there is one. */
    private async revisionPod(ip: string): Promise<Pod | undefined> {
        return (await this.podsAt(ip)).find(
            (pod) => pod.metadata.labels?.["serving.knative.dev/revision"] !== undefined,
        );
    }

    /** Whether the pod with this IP is one of a host workload's (a Deployment's pods are named `<name>-…`). */
    private async isHostWorkloadPod(ip: string): Promise<boolean> {
        return (await this.podsAt(ip)).some((pod) =>
            HOST_WORKLOADS.some(
                (w) => pod.metadata.namespace === w.namespace && pod.metadata.name.startsWith(`${w.name}-`),
            ),
        );
    }

    /**
     * A ready endpoint of a Service's port: an address and the port its EndpointSlice gives. Of a
     * workload's ready pods the host runs one (a Deployment of two replicas has one program here), so
     * the pod it runs as is chosen when it is one of them, as a real Service reaches a pod that answers.
     */
    private async readyEndpoint(
        namespace: string,
        name: string,
        servicePort: { name?: string; port: number } | undefined,
    ): Promise<{ ip: string; port: number } | undefined> {
        const slices = await this.kube<{ items: EndpointSlice[] }>(
            "GET",
            `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${name}`,
        );
        const running = new Set([...this.running.values()].map((r) => r.pod.status?.podIP));
        const endpoints = slices.items.flatMap((slice) => {
            const port = (slice.ports ?? []).find((p) => (p.name ?? "") === (servicePort?.name ?? ""))?.port;
            if (port === undefined) return [];
            return (slice.endpoints ?? [])
                .filter((e) => e.conditions?.ready !== false && e.addresses[0] !== undefined)
                .map((e) => ({ ip: e.addresses[0] ?? "", port }));
        });
        return endpoints.find((e) => running.has(e.ip)) ?? endpoints[0];
    }

    private async hasReadyEndpoint(namespace: string, name: string): Promise<boolean> {
        const slices = await this.kube<{ items: EndpointSlice[] }>(
            "GET",
            `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${name}`,
        );
        return slices.items.some((slice) => (slice.endpoints ?? []).some((e) => e.conditions?.ready !== false));
    }

    /**
     * Stands in for revision pods' queue-proxies, whose containers do not run here: answers the
     * autoscaler's scrape of a revision pod with what an idle queue-proxy reports (Knative's Stat
     * message: the pod's name, no requests, its uptime), in the format the scrape asks for.
     */
    async serveIdleQueueProxies(): Promise<void> {
        const server = createServer((request, response) => {
            const ip = (request.headers.host ?? "").replace(/:\d+$/, "");
            this.revisionPod(ip).then(
                (pod) => {
                    if (pod === undefined) {
                        response.statusCode = 404;
                        response.end();
                        return;
                    }
                    const started = Date.parse(pod.status?.startTime ?? new Date().toISOString());
                    response.setHeader("content-type", request.headers.accept ?? "application/protobuf");
                    response.end(idleStat(pod.metadata.name, (Date.now() - started) / 1000));
                },
                () => {
                    response.statusCode = 503;
                    response.end();
                },
            );
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        this.queueProxyStandIn = (server.address() as AddressInfo).port;
    }

    /**
     * Stands in for net-istio, which is not served as a Go module: marks each Knative networking
     * Ingress ready as net-istio does once Istio's gateways are programmed (its generation observed,
     * LoadBalancerReady, NetworkConfigured and Ready, and the gateways' addresses as its load
     * balancers), so that Knative's controller makes the Route ready.
     */
    private async markIngressesReady(): Promise<void> {
        const ingresses = await this.kube<{ items: KnativeIngress[] }>(
            "GET",
            "/apis/networking.internal.knative.dev/v1alpha1/ingresses",
        ).catch(() => ({ items: [] }));
        for (const ingress of ingresses.items) {
            const { name, namespace, generation } = ingress.metadata;
            if (ingress.status?.observedGeneration === generation) continue;
            const now = new Date().toISOString();
            const loadBalancer = (service: string) => ({
                ingress: [{ domainInternal: `${service}.istio-system.svc.cluster.local` }],
            });
            await this.kube(
                "PATCH",
                `/apis/networking.internal.knative.dev/v1alpha1/namespaces/${namespace}/ingresses/${name}/status?fieldManager=net-istio-controller`,
                {
                    status: {
                        observedGeneration: generation,
                        conditions: ["LoadBalancerReady", "NetworkConfigured", "Ready"].map((type) => ({
                            type,
                            status: "True",
                            lastTransitionTime: now,
                        })),
                        privateLoadBalancer: loadBalancer("knative-local-gateway"),
                        publicLoadBalancer: loadBalancer("istio-ingressgateway"),
                    },
                },
                "application/merge-patch+json",
            ).catch(() => undefined); // Deleted meanwhile: the next pass sees the new list.
        }
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
                    void admissionReviewOf(request).then(async (review) => {
                        if (webhook.service !== "istiod" || !request.url?.startsWith(INJECTION_PATH)) {
                            allowAdmission(response, review);
                            return;
                        }
                        const read = (name: string) =>
                            this.kube<{ data?: Record<string, string> }>(
                                "GET",
                                `/api/v1/namespaces/istio-system/configmaps/${name}`,
                            );
                        response.setHeader("content-type", "application/json");
                        response.end(await injectSidecar(this.config.binaries.istioInjector, read, review));
                    });
                },
            );
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            this.answerers.set(
                serviceKey(webhook.namespace, webhook.service, webhook.port),
                (server.address() as AddressInfo).port,
            );
        }
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

    /**
     * Starts or stops each host workload as it has a ready pod or not, and keeps its volumes current. When
     * its pod is replaced (a rollout), the old program runs on until the new one is ready.
     */
    private async superviseWorkloads(): Promise<void> {
        for (const workload of HOST_WORKLOADS) {
            const id = `${workload.namespace}/${workload.name}`;
            const object = await this.kube<Workload>(
                "GET",
                `/apis/apps/v1/namespaces/${workload.namespace}/${workload.kind}/${workload.name}`,
            ).catch(() => undefined);
            const running = this.running.get(id);
            const pod =
                object === undefined ? undefined : await this.readyPod(workload.namespace, object, running?.pod);
            if (running !== undefined && running.pod.metadata.uid !== pod?.metadata.uid) {
                this.running.delete(id);
                const previous = this.retiring.get(id);
                if (pod === undefined) this.stop(id, running, "its pod is gone or not ready");
                else if (previous !== undefined && !isReady(running))
                    this.stop(id, running, "replaced before it was ready");
                else {
                    this.stop(id, previous, "a newer pod replaced its successor");
                    this.retiring.set(id, running);
                }
            }
            if (object === undefined || pod === undefined) {
                this.stop(id, this.retiring.get(id), "its workload has no ready pod");
                continue;
            }
            const current = this.running.get(id) ?? (await this.run(workload, object.spec.template.spec, pod));
            if (isReady(current)) this.stop(id, this.retiring.get(id), `pod ${pod.metadata.name} is ready`);
            await this.writeVolumes(workload.namespace, current.mounts);
            if (current.serviceAccount !== undefined && Date.now() >= current.renewTokenAt)
                current.renewTokenAt = await this.projectToken(workload.namespace, current.serviceAccount, current);
        }
    }

    /** Stops a program, as a pod deleted with no grace period: unshare passes no signal on, and its death ends the sandbox. */
    private stop(id: string, program: Running | undefined, why: string): void {
        if (program === undefined) return;
        if (this.retiring.get(id) === program) this.retiring.delete(id);
        program.process.kill("SIGKILL");
        this.log(`${id}: stopped the program of pod ${program.pod.metadata.name} (${why})`);
    }

    /** A ready pod of the workload, with its IP: the one the host runs the container as (`current` while it stays ready). */
    private async readyPod(namespace: string, workload: Workload, current: Pod | undefined): Promise<Pod | undefined> {
        const selector = Object.entries(workload.spec.selector.matchLabels ?? {})
            .map(([key, value]) => `${key}=${value}`)
            .join(",");
        const pods = await this.kube<{ items: Pod[] }>(
            "GET",
            `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
        );
        const ready = pods.items
            .filter((pod) => pod.status?.podIP !== undefined)
            .filter((pod) => (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"))
            .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
        return ready.find((pod) => pod.metadata.uid === current?.metadata.uid) ?? ready[0];
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

    /**
     * As the kubelet projects it: a token of the pod's service account, bound to the pod, with the
     * cluster's CA and the namespace, in the files client-go's in-cluster config reads. Returns when
     * to renew it.
     */
    private async projectToken(
        namespace: string,
        serviceAccount: string,
        { pod, dir }: Pick<Running, "pod" | "dir">,
    ): Promise<number> {
        const request = await this.kube<{ status: { token: string } }>(
            "POST",
            `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
            {
                apiVersion: "authentication.k8s.io/v1",
                kind: "TokenRequest",
                spec: {
                    expirationSeconds: TOKEN_SECONDS,
                    boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid },
                },
            },
        );
        const files = {
            token: request.status.token,
            "ca.crt": readFileSync(this.config.caFile, "utf8"),
            namespace,
        };
        mkdirSync(join(dir, "serviceaccount"), { recursive: true });
        for (const [name, content] of Object.entries(files)) {
            const file = join(dir, "serviceaccount", name);
            writeFileSync(`${file}.partial`, content, { mode: 0o600 });
            renameSync(`${file}.partial`, file);
        }
        return Date.now() + TOKEN_SECONDS * 800;
    }

    private async run(workload: HostWorkload, spec: Workload["spec"]["template"]["spec"], pod: Pod): Promise<Running> {
        const id = `${workload.namespace}/${workload.name}`;
        const container = spec.containers.find((c) => c.name === workload.container);
        if (container === undefined) throw new Error(`${id} has no container ${workload.container}`);
        const podName = pod.metadata.name;
        const podIp = pod.status?.podIP ?? "";
        // The pod's filesystem is a directory here, named by its UID as the kubelet names it (shortened: a
        // port's socket path must fit in 107 bytes): its volumes are written under it, and the paths in its
        // arguments and its temporary directory point into it.
        const root = join(this.config.dir, "pods", pod.metadata.uid.slice(0, 8));
        mkdirSync(join(root, "tmp"), { recursive: true });
        const mounts = this.mountsOf(root, container, spec.volumes ?? []);
        await this.writeVolumes(workload.namespace, mounts);
        const serviceAccount =
            spec.automountServiceAccountToken === false ? undefined : (spec.serviceAccountName ?? "default");
        const renewTokenAt =
            serviceAccount === undefined
                ? Infinity
                : await this.projectToken(workload.namespace, serviceAccount, { pod, dir: root });
        const apiPort = new URL(this.config.api).port;
        // The API server as a pod finds it (the sandbox relays loopback's API port to it), so that
        // client-go's in-cluster config applies, with the pod's service account.
        const env: Record<string, string> = {
            PATH: process.env.PATH ?? "",
            KUBERNETES_SERVICE_HOST: "127.0.0.1",
            KUBERNETES_SERVICE_PORT: apiPort,
            TMPDIR: join(root, "tmp"),
        };
        for (const variable of container.env ?? []) {
            const field = variable.valueFrom?.fieldRef?.fieldPath;
            if (variable.value !== undefined) env[variable.name] = variable.value;
            else if (field === "metadata.namespace") env[variable.name] = workload.namespace;
            else if (field === "metadata.name") env[variable.name] = podName;
            else if (field === "status.podIP") env[variable.name] = podIp;
        }
        Object.assign(env, workload.env);
        const binary = this.config.binaries[workload.binary];
        const sandbox: SandboxSpec = {
            hostSocket: this.config.socket,
            dir: root,
            podName,
            podIp,
            namespace: workload.namespace,
            podCidr: this.config.podCidr,
            apiPort: Number(apiPort),
            serviceAccount: serviceAccount === undefined ? undefined : join(root, "serviceaccount"),
            ports: (container.ports ?? []).map((p) => p.containerPort),
            podPorts: workload.podPorts ?? [],
            command: binary,
            args: (container.args ?? []).map((arg) => inPod(root, mounts, arg)),
            env,
            log: join(this.config.dir, `host-${workload.namespace}-${workload.name}.log`),
        };
        writeFileSync(join(root, "sandbox.json"), JSON.stringify(sandbox), { mode: 0o600 });
        const child = spawn(
            "unshare",
            // Its own PID namespace too: when the sandbox is killed, the kernel kills the program with it.
            [
                "--net",
                "--mount",
                "--propagation",
                "private",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
                process.execPath,
                SANDBOX,
                join(root, "sandbox.json"),
            ],
            { stdio: ["ignore", "inherit", "inherit"] },
        );
        child.on("exit", (code) => {
            this.log(`${id}: the program of pod ${podName} exited with ${String(code)}`);
            if (this.running.get(id)?.process === child) this.running.delete(id);
            if (this.retiring.get(id)?.process === child) this.retiring.delete(id);
            rmSync(root, { recursive: true, force: true });
        });
        const running: Running = {
            process: child,
            pod,
            dir: root,
            mounts,
            serviceAccount,
            renewTokenAt,
            readinessPort: readinessPort(container),
        };
        this.running.set(id, running);
        const as = serviceAccount === undefined ? "" : `, service account ${serviceAccount}`;
        this.log(`${id}: running ${binary} ${sandbox.args.join(" ")} as pod ${podName} (${podIp}${as})`);
        return running;
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
            await this.markIngressesReady();
            await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
    }

    stopAll(): void {
        for (const [id, program] of [...this.running.entries(), ...this.retiring.entries()])
            this.stop(id, program, "the cluster host stops");
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
    await host.serveIdleQueueProxies();
    await host.serveNetwork();
    await host.reconcileForever();
}
