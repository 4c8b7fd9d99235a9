/**
 * A real Kubernetes API for the end-to-end tests: etcd and kube-apiserver on
 * loopback ports, with certificates and a token made here, and CRDs installed.
 * No kubelet and no container runtime: objects are stored and validated by the
 * real API server, but no pod ever runs.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kube } from "./kube.ts";

/** How to reach the API server, as a client sees it. */
export interface TestCluster {
    api: string;
    token: string;
    caFile: string;
    kubeconfig: string;
    stop(): Promise<void>;
}

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number };
            server.close(() => {
                resolve(port);
            });
        });
        server.on("error", reject);
    });
}

/** Builds (or finds) etcd and kube-apiserver; returns their paths. */
export function toolchain(): { etcd: string; kubeApiserver: string } {
    const bin = execFileSync("bash", [new URL("./toolchain.sh", import.meta.url).pathname], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    const versions = Object.fromEntries(
        readFileSync(new URL("./versions.env", import.meta.url), "utf8")
            .split("\n")
            .filter((line) => /^[A-Z_]+=/.test(line))
            .map((line) => line.split("=") as [string, string]),
    );
    return {
        etcd: join(bin, `etcd-${versions.ETCD_VERSION}`),
        kubeApiserver: join(bin, `kube-apiserver-${versions.KUBERNETES_VERSION}`),
    };
}

function openssl(args: string[], cwd: string): void {
    execFileSync("openssl", args, { cwd, stdio: "ignore" });
}

async function waitUntil(
    check: () => Promise<boolean>,
    what: string,
    process: ChildProcess,
    log: () => string,
): Promise<void> {
    for (let attempt = 0; attempt < 240; attempt++) {
        if (process.exitCode !== null) throw new Error(`${what} exited (${String(process.exitCode)}):\n${log()}`);
        if (await check().catch(() => false)) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
    throw new Error(`${what} was not ready in 2 minutes:\n${log()}`);
}

/** Starts etcd and kube-apiserver; `stop()` ends both and removes every file. */
export async function startCluster(): Promise<TestCluster> {
    const { etcd, kubeApiserver } = toolchain();
    const dir = mkdtempSync(join(tmpdir(), "serverless-platform-e2e-"));
    const processes: ChildProcess[] = [];
    const logs: Record<string, string> = { etcd: "", apiserver: "" };
    const stop = async () => {
        for (const p of processes.reverse()) {
            if (p.exitCode === null) {
                const exited = new Promise((resolve) => p.once("exit", resolve));
                p.kill("SIGTERM");
                await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
                // The race may have ended on the timeout: make sure.
                p.kill("SIGKILL");
            }
        }
        rmSync(dir, { recursive: true, force: true });
    };
    try {
        // A CA, a serving certificate for 127.0.0.1, and a key pair for service account tokens.
        openssl(
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "1",
                "-subj",
                "/CN=e2e-ca",
            ],
            dir,
        );
        openssl(
            [
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=kube-apiserver",
            ],
            dir,
        );
        writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        openssl(
            [
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "1",
                "-extfile",
                "san.ext",
            ],
            dir,
        );
        openssl(["genrsa", "-out", "sa.key", "2048"], dir);
        openssl(["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
        const token = execFileSync("openssl", ["rand", "-hex", "24"], { encoding: "utf8" }).trim();
        writeFileSync(join(dir, "tokens.csv"), `${token},e2e-admin,e2e-admin,system:masters\n`);

        const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
        const start = (name: string, command: string, args: string[]) => {
            const child = spawn(command, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
            const append = (chunk: Buffer) => {
                logs[name] = ((logs[name] ?? "") + chunk.toString()).slice(-20_000);
            };
            child.stdout.on("data", append);
            child.stderr.on("data", append);
            processes.push(child);
            return child;
        };
        const etcdProcess = start("etcd", etcd, [
            "--data-dir",
            join(dir, "etcd"),
            "--listen-client-urls",
            `http://127.0.0.1:${etcdClient}`,
            "--advertise-client-urls",
            `http://127.0.0.1:${etcdClient}`,
            "--listen-peer-urls",
            `http://127.0.0.1:${etcdPeer}`,
            "--initial-advertise-peer-urls",
            `http://127.0.0.1:${etcdPeer}`,
            "--initial-cluster",
            `default=http://127.0.0.1:${etcdPeer}`,
        ]);
        await waitUntil(
            async () => (await fetch(`http://127.0.0.1:${etcdClient}/health`)).ok,
            "etcd",
            etcdProcess,
            () => logs.etcd ?? "",
        );
        const api = `https://127.0.0.1:${apiPort}`;
        const apiserver = start("apiserver", kubeApiserver, [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            "--bind-address=127.0.0.1",
            `--secure-port=${apiPort}`,
            `--advertise-address=127.0.0.1`,
            `--tls-cert-file=${join(dir, "server.crt")}`,
            `--tls-private-key-file=${join(dir, "server.key")}`,
            `--client-ca-file=${join(dir, "ca.crt")}`,
            `--token-auth-file=${join(dir, "tokens.csv")}`,
            `--service-account-key-file=${join(dir, "sa.pub")}`,
            `--service-account-signing-key-file=${join(dir, "sa.key")}`,
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--authorization-mode=RBAC",
            "--disable-admission-plugins=ServiceAccount",
        ]);
        const ca = readFileSync(join(dir, "ca.crt"), "utf8");
        await waitUntil(
            async () => (await kube({ api, token, caFile: join(dir, "ca.crt") }, "GET", "/readyz")) === "ok",
            "kube-apiserver",
            apiserver,
            () => logs.apiserver ?? "",
        );
        const kubeconfig = join(dir, "kubeconfig");
        writeFileSync(
            kubeconfig,
            JSON.stringify({
                apiVersion: "v1",
                kind: "Config",
                clusters: [
                    {
                        name: "e2e",
                        cluster: { server: api, "certificate-authority-data": Buffer.from(ca).toString("base64") },
                    },
                ],
                users: [{ name: "e2e-admin", user: { token } }],
                contexts: [{ name: "e2e", context: { cluster: "e2e", user: "e2e-admin" } }],
                "current-context": "e2e",
            }),
        );
        return { api, token, caFile: join(dir, "ca.crt"), kubeconfig, stop };
    } catch (error) {
        await stop();
        throw error;
    }
}
