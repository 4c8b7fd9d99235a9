/**
 * What the cluster host's jobs share: the configuration the local cluster writes for it, the fields of the
 * Kubernetes objects it reads, the reads more than one job makes, and its log.
 */
import { type ApiAccess, kube } from "../kube-api.ts";
import type { ClusterPieces } from "../toolchain.ts";

/** What the cluster tells its host (written by local-cluster.ts): its API server, as the cluster's admin. */
export interface HostConfig extends ApiAccess {
    dir: string;
    /** The Unix socket the API server's egress selector connects to. */
    socket: string;
    /** The node's address, which stands for kwok's server on loopback. */
    nodeIp: string;
    /** The pod network's range (kwok's), which host workloads' sandboxes route through this host. */
    podCidr: string;
    /** The toolchain's cluster pieces, where each host workload's binary is. */
    binaries: ClusterPieces;
}

/** A line of the host's log, with its time. */
export function log(line: string): void {
    process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** A Service port, as "namespace/name:port". */
export type ServiceKey = string;

export const serviceKey = (namespace: string, name: string, port: number): ServiceKey => `${namespace}/${name}:${port}`;

export interface Service {
    metadata: { name: string; namespace: string };
    spec: {
        type?: string;
        clusterIP?: string;
        clusterIPs?: string[];
        externalName?: string;
        ports?: { name?: string; port: number }[];
    };
}

export interface EndpointSlice {
    ports?: { name?: string; port?: number }[];
    endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
}

export interface Pod {
    metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string> };
    status?: { podIP?: string; startTime?: string; conditions?: { type: string; status: string }[] };
}

interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface Volume {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string };
}

/** A probe's port: a number, or the name of one of the container's ports. */
interface Probe {
    httpGet?: { port: number | string };
    tcpSocket?: { port: number | string };
}

export interface Container {
    name: string;
    args?: string[];
    ports?: { name?: string; containerPort: number }[];
    readinessProbe?: Probe;
    env?: EnvVar[];
    volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
    containers: Container[];
    volumes?: Volume[];
    serviceAccountName?: string;
    automountServiceAccountToken?: boolean;
}

/** A Deployment or StatefulSet. */
export interface Workload {
    spec: { selector: { matchLabels?: Record<string, string> }; template: { spec: PodSpec } };
}

/** The pods with this IP (one, unless a finished pod's IP was reused). */
export async function podsAt(access: ApiAccess, ip: string): Promise<Pod[]> {
    const pods = await kube<{ items: Pod[] }>(
        access,
        "GET",
        `/api/v1/pods?fieldSelector=status.podIP%3D${encodeURIComponent(ip)}`,
    );
    return pods.items;
}

/** The Knative revision pod with this IP, if there is one. */
export async function revisionPodAt(access: ApiAccess, ip: string): Promise<Pod | undefined> {
    return (await podsAt(access, ip)).find(
        (pod) => pod.metadata.labels?.["serving.knative.dev/revision"] !== undefined,
    );
}

/** The EndpointSlices of a Service. */
export async function endpointSlicesOf(access: ApiAccess, namespace: string, name: string): Promise<EndpointSlice[]> {
    const slices = await kube<{ items: EndpointSlice[] }>(
        access,
        "GET",
        `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${name}`,
    );
    return slices.items;
}
