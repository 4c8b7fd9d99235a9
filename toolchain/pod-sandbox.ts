/**
 * A pod's network for one upstream program run on the simulated cluster's host (cluster-host.ts):
 * started by the host as `unshare --net --mount --pid --fork --kill-child … node pod-sandbox.ts <spec>`,
 * so the program gets what its pod would have and nothing of the host's, and ends with the sandbox:
 *
 * - **Its own addresses.** Loopback and the pod's IP, so it binds its fixed ports (Knative's 8080,
 *   8008, 9090) as in its container, beside other programs binding the same ports.
 * - **Cluster DNS.** Its own /etc/resolv.conf (a pod's search path and ndots) and /etc/hosts; the
 *   nameserver answers `<service>.<namespace>.svc.cluster.local` with the Service's ClusterIP, as
 *   the cluster host reads it from the API server, and NXDOMAIN otherwise (nothing outside the
 *   cluster resolves: the machine reaches no registry).
 * - **The cluster network through the host.** A connection to a ClusterIP it resolved, to a pod IP
 *   on one of `podPorts`, or to the API server is relayed to the cluster host's socket as HTTP
 *   CONNECT; the host routes it as the cluster would (to a ready endpoint) or refuses it.
 * - **Reachable from the host.** Each container port is a Unix socket in the pod's directory, which
 *   the host connects to when the cluster sends traffic to this pod.
 */
import { spawn, execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { type NetConnectOpts, type Socket, connect, createServer } from "node:net";
import { join } from "node:path";

/** What the cluster host tells the sandbox (a JSON file). */
export interface SandboxSpec {
    /** The cluster host's socket: HTTP CONNECT into the cluster, and `GET /dns/<name>`. */
    hostSocket: string;
    /** The pod's directory: its /etc files and its ports' sockets live here. */
    dir: string;
    podName: string;
    podIp: string;
    namespace: string;
    /** The pod network's range; other pods' addresses in it are reached through the host. */
    podCidr: string;
    /** The API server's port on loopback, as the kubeconfig names it. */
    apiPort: number;
    /** The directory of the pod's service account files (kept current by the host), if its pod mounts them. */
    serviceAccount?: string;
    /** The container's ports, each reachable as `<dir>/ports/<port>.sock`. */
    ports: number[];
    /** Ports the program dials on other pods' IPs (the autoscaler scrapes queue-proxies on 9090). */
    podPorts: number[];
    command: string;
    args: string[];
    env: Record<string, string>;
    log: string;
}

/** Where a pod has its service account token, CA and namespace, as client-go's in-cluster config reads them. */
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The nameserver's address inside the sandbox. */
const NAMESERVER = "127.0.0.53";

/** Where a port of this pod is reachable from the host. */
export function portSocket(dir: string, port: number): string {
    return join(dir, "ports", `${String(port)}.sock`);
}

/** Whether something accepts connections at `where`: a TCP port or a Unix socket. */
export function acceptsConnections(where: NetConnectOpts): Promise<boolean> {
    return new Promise((resolve) => {
        const probe = connect(where, () => {
            probe.destroy();
            resolve(true);
        });
        probe.once("error", () => {
            resolve(false);
        });
    });
}

function ip(...args: string[]): void {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "inherit"] });
}

/** Relays `client` to `target` ("ip:port") through the cluster host's CONNECT socket. */
function relay(spec: SandboxSpec, client: Socket, target: string): void {
    const upstream = connect(spec.hostSocket, () => {
        upstream.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    });
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        upstream.off("data", onHead);
        if (!head.subarray(0, end).toString().startsWith("HTTP/1.1 200")) {
            client.destroy();
            upstream.destroy();
            return;
        }
        client.write(head.subarray(end + 4));
        upstream.pipe(client);
        client.pipe(upstream);
    };
    upstream.on("data", onHead);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
}

/** Asks the cluster host for a cluster name's address: a Service's ClusterIP and ports. */
function resolve(spec: SandboxSpec, name: string): Promise<{ ip: string; ports: number[] } | undefined> {
    return new Promise((done) => {
        const asked = request({ socketPath: spec.hostSocket, path: `/dns/${encodeURIComponent(name)}` }, (answer) => {
            let body = "";
            answer.on("data", (chunk: Buffer) => (body += chunk.toString()));
            answer.on("end", () => {
                done(answer.statusCode === 200 ? (JSON.parse(body) as { ip: string; ports: number[] }) : undefined);
            });
        });
        asked.on("error", () => {
            done(undefined);
        });
        asked.end();
    });
}

/** The question of a DNS query: its name (lower case, no trailing dot), type, and where it ends. */
function question(query: Buffer): { name: string; type: number; end: number } {
    const labels: string[] = [];
    let offset = 12;
    while (query[offset] !== 0) {
        const length = query[offset] ?? 0;
        labels.push(query.subarray(offset + 1, offset + 1 + length).toString("latin1"));
        offset += length + 1;
    }
    return { name: labels.join(".").toLowerCase(), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

/** A DNS answer to `query`: an A record for `address`, no record (other types) or NXDOMAIN (none). */
function answer(query: Buffer, address: string | undefined): Buffer {
    const { type, end } = question(query);
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8180 | (address === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    const record = address !== undefined && type === 1 ? address : undefined;
    header.writeUInt16BE(record === undefined ? 0 : 1, 6);
    const parts = [header, query.subarray(12, end)];
    if (record !== undefined) {
        const a = Buffer.alloc(16);
        a.writeUInt16BE(0xc00c, 0); // the name, as a pointer to the question's
        a.writeUInt16BE(1, 2); // A
        a.writeUInt16BE(1, 4); // IN
        a.writeUInt32BE(5, 6); // TTL: Services change
        a.writeUInt16BE(4, 10);
        Buffer.from(record.split(".").map(Number)).copy(a, 12);
        parts.push(a);
    }
    return Buffer.concat(parts);
}

class Sandbox {
    private readonly spec: SandboxSpec;
    /** "address:port" pairs this sandbox already listens on. */
    private readonly listening = new Set<string>();
    /** ClusterIPs given to loopback, once each resolved. */
    private readonly addresses = new Set<string>();

    constructor(spec: SandboxSpec) {
        this.spec = spec;
    }

    /** Loopback, the pod's IP, and the pod range routed to this namespace's own listeners. */
    network(): void {
        ip("link", "set", "lo", "up");
        ip("addr", "add", `${this.spec.podIp}/32`, "dev", "lo");
        ip("route", "add", "local", this.spec.podCidr, "dev", "lo", "table", "local");
    }

    /** The pod's /etc/hosts and /etc/resolv.conf and its service account, bind-mounted in this mount namespace only. */
    etc(): void {
        const { dir, podIp, podName, namespace } = this.spec;
        mkdirSync(join(dir, "etc"), { recursive: true });
        const files = {
            hosts: `127.0.0.1 localhost\n${podIp} ${podName}\n`,
            "resolv.conf": `nameserver ${NAMESERVER}\nsearch ${namespace}.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
        };
        for (const [name, content] of Object.entries(files)) {
            writeFileSync(join(dir, "etc", name), content);
            execFileSync("mount", ["--bind", join(dir, "etc", name), `/etc/${name}`]);
        }
        const { serviceAccount } = this.spec;
        if (serviceAccount !== undefined) {
            mkdirSync(SERVICE_ACCOUNT_DIR, { recursive: true });
            execFileSync("mount", ["--bind", serviceAccount, SERVICE_ACCOUNT_DIR]);
        }
    }

    /** Listens on `address:port` and relays each connection to the same target through the host. */
    private async listen(address: string, port: number): Promise<void> {
        const key = `${address}:${String(port)}`;
        if (this.listening.has(key)) return;
        this.listening.add(key);
        const server = createServer((client) => {
            relay(this.spec, client, address === "0.0.0.0" ? `${client.localAddress ?? ""}:${String(port)}` : key);
        });
        // A port the program itself listens on on every address cannot be relayed too: it answers there itself.
        await new Promise<void>((done) => {
            server.once("error", () => {
                done();
            });
            server.listen(port, address, done);
        });
    }

    async nameserver(): Promise<void> {
        const server = createSocket("udp4");
        server.on("message", (query, peer) => {
            const { name } = question(query);
            const cluster = /^[a-z0-9-]+\.[a-z0-9-]+\.svc\.cluster\.local$/.test(name);
            void (cluster ? resolve(this.spec, name) : Promise.resolve(undefined))
                .then(async (service) => {
                    if (service !== undefined && !this.addresses.has(service.ip)) {
                        ip("addr", "add", `${service.ip}/32`, "dev", "lo");
                        this.addresses.add(service.ip);
                    }
                    for (const port of service?.ports ?? []) await this.listen(service?.ip ?? "", port);
                    return service?.ip;
                })
                // Unresolvable now: NXDOMAIN at once rather than a resolver left waiting.
                .catch(() => undefined)
                .then((address) => {
                    server.send(answer(query, address), peer.port, peer.address);
                });
        });
        await new Promise<void>((done) => server.bind(53, NAMESERVER, done));
    }

    /** The API server, other pods on `podPorts`, and each container port as a socket for the host. */
    async relays(): Promise<void> {
        await this.listen("127.0.0.1", this.spec.apiPort);
        for (const port of this.spec.podPorts) await this.listen("0.0.0.0", port);
        mkdirSync(join(this.spec.dir, "ports"), { recursive: true });
        for (const port of this.spec.ports) {
            rmSync(portSocket(this.spec.dir, port), { force: true });
            void this.exposeWhenListening(port);
        }
    }

    /**
     * Makes a container port reachable from the host once the program accepts connections on it (a TCP
     * readiness probe, as the kubelet's): until then the host knows the pod is not serving that port yet.
     */
    private async exposeWhenListening(port: number): Promise<void> {
        const where = { port, host: this.spec.podIp };
        while (!(await acceptsConnections(where))) await new Promise((resolve) => setTimeout(resolve, 200));
        const server = createServer((client) => {
            const inside = connect(port, this.spec.podIp, () => {
                inside.pipe(client);
                client.pipe(inside);
            });
            inside.on("error", () => client.destroy());
            client.on("error", () => inside.destroy());
        });
        // Bound under another name of the same length (a socket's path is limited to 107 bytes) and renamed,
        // so that it appears listening: the host takes the socket's existence as the port's readiness.
        const bound = join(this.spec.dir, "ports", `${String(port)}.new`);
        await new Promise<void>((done) => server.listen(bound, done));
        renameSync(bound, portSocket(this.spec.dir, port));
    }

    /** Runs the program; the sandbox ends with it (and it with the sandbox, the PID namespace's first process). */
    run(): void {
        const log = openSync(this.spec.log, "a");
        const child = spawn(this.spec.command, this.spec.args, {
            env: this.spec.env,
            stdio: ["ignore", log, log],
        });
        child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
    }
}

if (import.meta.main) {
    const specFile = process.argv[2];
    if (specFile === undefined)
        throw new Error("usage: unshare --net --mount --pid --fork node toolchain/pod-sandbox.ts <spec>");
    const sandbox = new Sandbox(JSON.parse(readFileSync(specFile, "utf8")) as SandboxSpec);
    sandbox.network();
    sandbox.etc();
    await sandbox.nameserver();
    await sandbox.relays();
    sandbox.run();
}
