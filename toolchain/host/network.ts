/**
 * The cluster's network as the host plays it. The API server's egress selector and every pod sandbox send
 * their traffic into the cluster here, as HTTP CONNECT over a Unix socket; the sandboxes' nameservers ask it
 * for cluster DNS. A ClusterIP reaches a ready endpoint of its Service, a pod IP that pod's program if one
 * runs here; anything else is refused with the reason. Nothing but loopback and the sandboxes' sockets is
 * ever dialled: a ClusterIP or pod IP leads nowhere on this machine.
 */
import { type IncomingMessage, createServer } from "node:http";
import { BlockList, type Socket, connect, isIPv4 } from "node:net";
import { rmSync } from "node:fs";
import { kube } from "../kube-api.ts";
import {
    type HostConfig,
    type Service,
    type ServiceKey,
    endpointSlicesOf,
    log,
    revisionPodAt,
    serviceKey,
} from "./objects.ts";
import { QUEUE_METRICS_PORT } from "./stand-ins.ts";
import type { HostWorkloads } from "./workloads.ts";

/** Where the host connects a route: a loopback port, or a Unix socket (a sandbox's port). */
type Route = { port: number } | { path: string };

/** Who answers what the host does not run as a pod. */
export interface Answerers {
    /** Where each unchecked webhook's Service port is answered on loopback (admission.ts). */
    webhooks: Map<ServiceKey, number>;
    /** The loopback port of the idle queue-proxies' stand-in (stand-ins.ts). */
    idleQueueProxies: number;
}

export class ClusterNetwork {
    /** The pods' addresses: one of them is never a Service's. */
    private readonly podAddresses = new BlockList();
    private readonly config: HostConfig;
    private readonly workloads: HostWorkloads;
    private readonly answerers: Answerers;

    constructor(config: HostConfig, workloads: HostWorkloads, answerers: Answerers) {
        this.config = config;
        this.workloads = workloads;
        this.answerers = answerers;
        const [network = "", prefix = ""] = config.podCidr.split("/");
        this.podAddresses.addSubnet(network, Number(prefix), "ipv4");
    }

    /**
     * Serves the network on the host's socket: HTTP CONNECT to a ClusterIP, a pod IP or the node (from the API
     * server's egress and the sandboxes), and cluster DNS (`GET /dns/<name>`, from the sandboxes' nameservers).
     */
    async serve(): Promise<void> {
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
            this.tunnel(request, client);
        });
        await new Promise<void>((resolve) => server.listen(this.config.socket, resolve));
    }

    /** Connects a CONNECT request's client to where its target is answered, or refuses it with the reason. */
    private tunnel(request: IncomingMessage, client: Socket): void {
        let upstream: Socket | undefined;
        // The caller may hang up while its route is looked up or its pod starts (a webhook call gives up
        // after its timeout): that ends this tunnel, never the host.
        client.on("error", () => upstream?.destroy());
        const refuse = (status: string) => {
            log(`refused CONNECT ${request.url ?? ""}: ${status}`);
            if (client.writable) client.end(`HTTP/1.1 ${status.replace(/[\r\n]+/g, " ")}\r\n\r\n`);
        };
        this.route(request.url ?? "").then(
            (route) => {
                if (typeof route === "string") {
                    refuse(route);
                    return;
                }
                if (!client.writable) return;
                const target = "port" in route ? { port: route.port, host: "127.0.0.1" } : { path: route.path };
                const tunnel = connect(target, () => {
                    client.write("HTTP/1.1 200 Connection established\r\n\r\n");
                    tunnel.pipe(client);
                    client.pipe(tunnel);
                });
                tunnel.on("error", () => {
                    refuse(`503 nothing listens for ${request.url ?? ""} yet`);
                });
                upstream = tunnel;
            },
            (error: unknown) => {
                refuse(`503 the cluster host could not read the cluster: ${String(error)}`);
            },
        );
    }

    /** Cluster DNS: a Service's ClusterIP and ports (an ExternalName inside the cluster followed once). */
    private async resolve(name: string, follow = true): Promise<{ ip: string; ports: number[] } | undefined> {
        const match = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local\.?$/.exec(name);
        if (match === null) return undefined;
        const service = await kube<Service>(
            this.config,
            "GET",
            `/api/v1/namespaces/${match[2]}/services/${match[1]}`,
        ).catch(() => undefined);
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
        const services = await kube<{ items: Service[] }>(this.config, "GET", "/api/v1/services");
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
        const answerer = this.answerers.webhooks.get(key);
        if (answerer !== undefined) return { port: answerer };
        return this.routeToPod(endpoint.ip, endpoint.port, key);
    }

    /** A pod's port (reached through `service`, if so): its program's, if a host workload runs as that pod, or a stand-in's. */
    private async routeToPod(ip: string, port: number, service?: ServiceKey): Promise<Route | string> {
        const path = await this.workloads.socketFor(ip, port);
        if (path !== undefined) return { path };
        if (port === QUEUE_METRICS_PORT && (await revisionPodAt(this.config, ip)) !== undefined)
            return { port: this.answerers.idleQueueProxies };
        const behind = service === undefined ? "" : `${service}, `;
        return `503 nothing runs behind ${behind}pod ${ip}:${String(port)} on the simulated cluster (no container runs)`;
    }

    /**
     * A ready endpoint of a Service's port: an address and the port its EndpointSlice gives. Of a workload's
     * ready pods the host runs one (a Deployment of two replicas has one program here), so the pod it runs as
     * is chosen when it is one of them, as a real Service reaches a pod that answers.
     */
    private async readyEndpoint(
        namespace: string,
        name: string,
        servicePort: { name?: string; port: number } | undefined,
    ): Promise<{ ip: string; port: number } | undefined> {
        const running = this.workloads.runningPodIps();
        const endpoints = (await endpointSlicesOf(this.config, namespace, name)).flatMap((slice) => {
            const port = (slice.ports ?? []).find((p) => (p.name ?? "") === (servicePort?.name ?? ""))?.port;
            if (port === undefined) return [];
            return (slice.endpoints ?? [])
                .filter((e) => e.conditions?.ready !== false && e.addresses[0] !== undefined)
                .map((e) => ({ ip: e.addresses[0] ?? "", port }));
        });
        return endpoints.find((e) => running.has(e.ip)) ?? endpoints[0];
    }
}
