/**
 * Upstream code as pods: an upstream program whose code builds here runs while its workload has a ready pod,
 * as that pod, in a pod sandbox of its own (pod-sandbox.ts), with the pod's arguments, environment, ConfigMap
 * and Secret volumes and service account token, and does what it does on a real cluster with the permissions
 * its manifest or chart gives it. This is the kubelet's part of the cluster host.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { kube } from "../kube-api.ts";
import { type SandboxSpec, portSocket } from "../pod-sandbox.ts";
import type { ClusterPieces } from "../toolchain.ts";
import { type Container, type HostConfig, type Pod, type PodSpec, type Workload, log, podsAt } from "./objects.ts";
import { type Mount, inPod, mountsOf, projectToken, writeVolumes } from "./pod-files.ts";
import { QUEUE_METRICS_PORT } from "./stand-ins.ts";

const SANDBOX = fileURLToPath(new URL("../pod-sandbox.ts", import.meta.url));

/**
 * An upstream workload whose container runs here while the workload has a ready pod: in a pod sandbox with
 * that pod's name and IP. Traffic the cluster sends to the pod's IP reaches it; it listens on its
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

const knativeServing = (
    name: string,
    binary: keyof ClusterPieces,
    extra: Partial<HostWorkload> = {},
): HostWorkload => ({ namespace: "knative-serving", kind: "deployments", name, container: name, binary, ...extra });

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

/** The host workloads' programs: started, kept and stopped as their workloads' pods come and go. */
export class HostWorkloads {
    /** The host workloads running, by "namespace/name". */
    private readonly running = new Map<string, Running>();
    /**
     * A rolled-out workload's previous program, by "namespace/name": it answers until its successor is
     * ready, as the old pod of a rollout stays in its Service until the new pod passes its readiness probe.
     */
    private readonly retiring = new Map<string, Running>();

    private readonly config: HostConfig;

    constructor(config: HostConfig) {
        this.config = config;
    }

    /** The IPs of the pods whose programs run here. */
    runningPodIps(): Set<string | undefined> {
        return new Set([...this.running.values()].map((r) => r.pod.status?.podIP));
    }

    /**
     * The socket a program serves a pod's port on, if one does. Kwok makes a pod Ready at once, before the
     * host has started its program or the program listens; on a real cluster its readiness probe would keep
     * it out of the Service until it serves. So a rollout's new pod is answered by its predecessor's program
     * until its own serves the port, and a first pod's caller waits, a while, for its program.
     */
    async socketFor(ip: string, port: number): Promise<string | undefined> {
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
        return serving();
    }

    /** Whether the pod with this IP is one of a host workload's (a Deployment's pods are named `<name>-…`). */
    private async isHostWorkloadPod(ip: string): Promise<boolean> {
        return (await podsAt(this.config, ip)).some((pod) =>
            HOST_WORKLOADS.some(
                (w) => pod.metadata.namespace === w.namespace && pod.metadata.name.startsWith(`${w.name}-`),
            ),
        );
    }

    /**
     * Starts or stops each host workload as it has a ready pod or not, and keeps its volumes current. When
     * its pod is replaced (a rollout), the old program runs on until the new one is ready.
     */
    async supervise(): Promise<void> {
        for (const workload of HOST_WORKLOADS) {
            const id = `${workload.namespace}/${workload.name}`;
            const object = await kube<Workload>(
                this.config,
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
            await writeVolumes(this.config, workload.namespace, current.mounts);
            if (current.serviceAccount !== undefined && Date.now() >= current.renewTokenAt)
                current.renewTokenAt = await projectToken(this.config, current.serviceAccount, pod, current.dir);
        }
    }

    /** Stops every program, as the node goes away. */
    stopAll(): void {
        for (const [id, program] of [...this.running.entries(), ...this.retiring.entries()])
            this.stop(id, program, "the cluster host stops");
    }

    /** Stops a program, as a pod deleted with no grace period: unshare passes no signal on, and its death ends the sandbox. */
    private stop(id: string, program: Running | undefined, why: string): void {
        if (program === undefined) return;
        if (this.retiring.get(id) === program) this.retiring.delete(id);
        program.process.kill("SIGKILL");
        log(`${id}: stopped the program of pod ${program.pod.metadata.name} (${why})`);
    }

    /** A ready pod of the workload, with its IP: the one the host runs the container as (`current` while it stays ready). */
    private async readyPod(namespace: string, workload: Workload, current: Pod | undefined): Promise<Pod | undefined> {
        const selector = Object.entries(workload.spec.selector.matchLabels ?? {})
            .map(([key, value]) => `${key}=${value}`)
            .join(",");
        const pods = await kube<{ items: Pod[] }>(
            this.config,
            "GET",
            `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
        );
        const ready = pods.items
            .filter((pod) => pod.status?.podIP !== undefined)
            .filter((pod) => (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"))
            .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
        return ready.find((pod) => pod.metadata.uid === current?.metadata.uid) ?? ready[0];
    }

    /** The environment the program sees: the API server as a pod finds it, then the container's own. */
    private environment(workload: HostWorkload, container: Container, pod: Pod, root: string): Record<string, string> {
        // The sandbox relays loopback's API port to the API server, so that client-go's in-cluster config
        // applies, with the pod's service account.
        const env: Record<string, string> = {
            PATH: process.env.PATH ?? "",
            KUBERNETES_SERVICE_HOST: "127.0.0.1",
            KUBERNETES_SERVICE_PORT: new URL(this.config.api).port,
            TMPDIR: join(root, "tmp"),
        };
        for (const variable of container.env ?? []) {
            const field = variable.valueFrom?.fieldRef?.fieldPath;
            if (variable.value !== undefined) env[variable.name] = variable.value;
            else if (field === "metadata.namespace") env[variable.name] = workload.namespace;
            else if (field === "metadata.name") env[variable.name] = pod.metadata.name;
            else if (field === "status.podIP") env[variable.name] = pod.status?.podIP ?? "";
        }
        return { ...env, ...workload.env };
    }

    private async run(workload: HostWorkload, spec: PodSpec, pod: Pod): Promise<Running> {
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
        const mounts = mountsOf(root, container, spec.volumes ?? []);
        await writeVolumes(this.config, workload.namespace, mounts);
        const serviceAccount =
            spec.automountServiceAccountToken === false ? undefined : (spec.serviceAccountName ?? "default");
        const renewTokenAt =
            serviceAccount === undefined ? Infinity : await projectToken(this.config, serviceAccount, pod, root);
        const binary = this.config.binaries[workload.binary];
        const sandbox: SandboxSpec = {
            hostSocket: this.config.socket,
            dir: root,
            podName,
            podIp,
            namespace: workload.namespace,
            podCidr: this.config.podCidr,
            apiPort: Number(new URL(this.config.api).port),
            serviceAccount: serviceAccount === undefined ? undefined : join(root, "serviceaccount"),
            ports: (container.ports ?? []).map((p) => p.containerPort),
            podPorts: workload.podPorts ?? [],
            command: binary,
            args: (container.args ?? []).map((arg) => inPod(root, mounts, arg)),
            env: this.environment(workload, container, pod, root),
            log: join(this.config.dir, `host-${workload.namespace}-${workload.name}.log`),
        };
        writeFileSync(join(root, "sandbox.json"), JSON.stringify(sandbox), { mode: 0o600 });
        // Its own PID namespace too: when the sandbox is killed, the kernel kills the program with it.
        const unshare = ["--net", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child"];
        const child = spawn(
            "unshare",
            [...unshare, "--mount-proc", process.execPath, SANDBOX, join(root, "sandbox.json")],
            { stdio: ["ignore", "inherit", "inherit"] },
        );
        child.on("exit", (code) => {
            log(`${id}: the program of pod ${podName} exited with ${String(code)}`);
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
        log(`${id}: running ${binary} ${sandbox.args.join(" ")} as pod ${podName} (${podIp}${as})`);
        return running;
    }
}
