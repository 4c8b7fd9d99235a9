/**
 * Whether the platform fits its node pool: every pod the stack's objects will run (charts' and
 * manifests' workloads included, as they are applied), with the sidecar Istio injects and the
 * defaults the operators give their pods, plus every app namespace's quota, against the pool the
 * stack file declares. A stack that does not fit is refused at preview, with the sums and the pool,
 * instead of leaving pods Pending on the first `up`.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseQuantity } from "../shared/quantity.ts";
import type { NodePool } from "./config/index.ts";

/** CPU in cores and memory in bytes. */
export interface Requests {
    cpu: number;
    memory: number;
}

/** Identical pods the stack runs: `count` of them, or one on every node. */
export interface PodGroup {
    /** `Kind namespace/name`, as the refusal lists the largest. */
    workload: string;
    namespace: string;
    count: number | "every node";
    /** One pod's requests, its injected sidecar not included. */
    requests: Requests;
    /** The pod's labels (whether Istio injects it). */
    labels: Record<string, string>;
    hostNetwork: boolean;
}

type Json = Record<string, unknown>;

const ZERO: Requests = { cpu: 0, memory: 0 };

const add = (a: Requests, b: Requests): Requests => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory });
const times = (a: Requests, n: number): Requests => ({ cpu: a.cpu * n, memory: a.memory * n });
const larger = (a: Requests, b: Requests): Requests => ({
    cpu: Math.max(a.cpu, b.cpu),
    memory: Math.max(a.memory, b.memory),
});

function objectAt(value: unknown, ...path: string[]): Json | undefined {
    let current = value;
    for (const key of path) {
        if (typeof current !== "object" || current === null) return undefined;
        current = (current as Json)[key];
    }
    return typeof current === "object" && current !== null && !Array.isArray(current) ? (current as Json) : undefined;
}

function listAt(value: unknown, ...path: string[]): Json[] {
    const [last, ...parents] = [...path].reverse();
    const found = last === undefined ? undefined : objectAt(value, ...parents.reverse())?.[last];
    return Array.isArray(found) ? (found as Json[]) : [];
}

/** A text value at `path`, or undefined (absent, or an Output not yet known). */
function textAt(value: unknown, ...path: string[]): string | undefined {
    const key = path[path.length - 1];
    const found = key === undefined ? undefined : objectAt(value, ...path.slice(0, -1))?.[key];
    return typeof found === "string" ? found : undefined;
}

function quantityOf(value: unknown): number {
    return typeof value === "string" || typeof value === "number" ? (parseQuantity(String(value)) ?? 0) : 0;
}

/** A container's requests; where it sets only limits, Kubernetes requests the limits. */
export function containerRequests(container: Json, fallback: Requests = ZERO): Requests {
    const requests = objectAt(container, "resources", "requests") ?? {};
    const limits = objectAt(container, "resources", "limits") ?? {};
    const pick = (resource: "cpu" | "memory") =>
        quantityOf(requests[resource] ?? limits[resource]) ||
        (requests[resource] === undefined ? fallback[resource] : 0);
    return { cpu: pick("cpu"), memory: pick("memory") };
}

/**
 * A pod's requests as the scheduler counts them: its containers and sidecar (restartable) init
 * containers together, or a plain init container with the sidecars started before it, if more.
 */
export function podRequests(spec: Json, fallbacks: Record<string, Requests> = {}): Requests {
    let sidecars = ZERO;
    let initPeak = ZERO;
    for (const init of listAt(spec, "initContainers")) {
        const requests = containerRequests(init, fallbacks[String(init.name)]);
        if (init.restartPolicy === "Always") sidecars = add(sidecars, requests);
        else initPeak = larger(initPeak, add(sidecars, requests));
    }
    const running = listAt(spec, "containers").reduce<Requests>(
        (sum, container) => add(sum, containerRequests(container, fallbacks[String(container.name)])),
        sidecars,
    );
    return add(larger(running, initPeak), podOverhead(spec));
}

function podOverhead(spec: Json): Requests {
    const overhead = objectAt(spec, "overhead") ?? {};
    return { cpu: quantityOf(overhead.cpu), memory: quantityOf(overhead.memory) };
}

/** The Prometheus Operator's config-reloader sidecar (its defaults: cmd/operator, v0.93.1). */
const CONFIG_RELOADER: Requests = { cpu: 0.01, memory: 50 * 2 ** 20 };

/**
 * ECK's memory for an Elasticsearch or Kibana container that sets none (nodespec/defaults.go and
 * kibana/pod.go, ECK 3.5.0: 2Gi for both).
 */
const ECK_DEFAULT: Requests = { cpu: 0, memory: 2 * 2 ** 30 };

/** An ECK pod template with its main container, which ECK adds when the template leaves it out. */
function withEckContainer(template: Json | undefined, name: string): Json {
    const spec = objectAt(template, "spec") ?? {};
    const containers = listAt(spec, "containers");
    if (containers.some((c) => c.name === name)) return template ?? {};
    return { ...template, spec: { ...spec, containers: [...containers, { name }] } };
}

/** The pods `template` makes, `count` of them: its containers' requests (`fallbacks` for those that set none) and `extra`. */
function podGroup(
    workload: string,
    namespace: string,
    count: PodGroup["count"],
    template: Json | undefined,
    fallbacks: Record<string, Requests> = {},
    extra = ZERO,
): PodGroup {
    return {
        workload,
        namespace,
        count,
        requests: add(podRequests(objectAt(template, "spec") ?? {}, fallbacks), extra),
        labels: (objectAt(template, "metadata", "labels") ?? {}) as Record<string, string>,
        hostNetwork: objectAt(template, "spec")?.hostNetwork === true,
    };
}

/** The pods a Kubernetes object makes (none for most objects). */
export function podGroupsOf(object: Json): PodGroup[] {
    if (textAt(object, "kind") === "Elasticsearch") return elasticsearchGroups(object);
    const group = workloadGroupOf(object);
    return group === undefined ? [] : [group];
}

/** The pods of a workload, an operator's custom resource with one pod template, or a bare pod. */
function workloadGroupOf(object: Json): PodGroup | undefined {
    const kind = textAt(object, "kind") ?? "";
    const apiVersion = textAt(object, "apiVersion") ?? "";
    const namespace = textAt(object, "metadata", "namespace") ?? "default";
    const workload = `${kind} ${namespace}/${textAt(object, "metadata", "name") ?? ""}`;
    const spec = objectAt(object, "spec") ?? {};
    const group = (count: PodGroup["count"], template: Json | undefined, fallbacks = {}, extra = ZERO) =>
        podGroup(workload, namespace, count, template, fallbacks, extra);
    const replicas = (key = "replicas") => (typeof spec[key] === "number" ? spec[key] : 1);
    switch (true) {
        case apiVersion === "apps/v1" && ["Deployment", "StatefulSet", "ReplicaSet"].includes(kind):
            return group(replicas(), objectAt(spec, "template"));
        case apiVersion === "apps/v1" && kind === "DaemonSet":
            return group("every node", objectAt(spec, "template"));
        case apiVersion === "batch/v1" && kind === "Job":
            return group(replicas("parallelism"), objectAt(spec, "template"));
        case apiVersion === "v1" && kind === "Pod":
            return group(1, object);
        case apiVersion.startsWith("kibana.k8s.elastic.co/") && kind === "Kibana":
            return group(replicas("count"), withEckContainer(objectAt(spec, "podTemplate"), "kibana"), {
                kibana: ECK_DEFAULT,
            });
        case apiVersion.startsWith("monitoring.coreos.com/") && ["Prometheus", "Alertmanager"].includes(kind): {
            const server = containerRequests({ resources: objectAt(spec, "resources") ?? {} });
            return group(
                replicas(),
                { metadata: { labels: objectAt(spec, "podMetadata", "labels") ?? {} } },
                {},
                add(server, CONFIG_RELOADER),
            );
        }
        default:
            return undefined;
    }
}

/** Elasticsearch runs one group of pods per node set. */
function elasticsearchGroups(object: Json): PodGroup[] {
    const namespace = textAt(object, "metadata", "namespace") ?? "default";
    const name = textAt(object, "metadata", "name") ?? "";
    return listAt(object, "spec", "nodeSets").map((nodeSet) => {
        const workload = `Elasticsearch ${namespace}/${name} (${textAt(nodeSet, "name") ?? ""})`;
        const count = typeof nodeSet.count === "number" ? nodeSet.count : 1;
        const template = withEckContainer(objectAt(nodeSet, "podTemplate"), "elasticsearch");
        return podGroup(workload, namespace, count, template, { elasticsearch: ECK_DEFAULT });
    });
}

/** What the app namespaces' ResourceQuotas let their pods request. */
function quotaOf(object: Json): Requests | undefined {
    if (object.kind !== "ResourceQuota") return undefined;
    const hard = objectAt(object, "spec", "hard") ?? {};
    return { cpu: quantityOf(hard["requests.cpu"]), memory: quantityOf(hard["requests.memory"]) };
}

/** Everything of the stack that asks for room on the nodes. */
interface Demand {
    groups: PodGroup[];
    /** Namespaces whose pods Istio injects (labelled `istio-injection: enabled`). */
    injectedNamespaces: Set<string>;
    quotas: Requests;
}

/** Whether Istio injects a pod of the group: its namespace or its own label says so, and not otherwise. */
function injected(group: PodGroup, injectedNamespaces: Set<string>): boolean {
    if (group.hostNetwork) return false;
    const label = group.labels["sidecar.istio.io/inject"];
    return label === "true" || (label !== "false" && injectedNamespaces.has(group.namespace));
}

/** The sums a node pool must hold, and the one pod that needs the most of a node. */
export interface Fit {
    pods: Requests;
    quotas: Requests;
    pool: Requests;
    /** Requests of one node's DaemonSet pods. */
    perNode: Requests;
    largest: { workload: string; requests: Requests } | undefined;
    problems: string[];
}

const cores = (cpu: number) => `${(Math.round(cpu * 100) / 100).toString()} CPU`;
const gibibytes = (memory: number) => `${(Math.round((memory / 2 ** 30) * 100) / 100).toString()}Gi`;
const both = (r: Requests) => `${cores(r.cpu)} and ${gibibytes(r.memory)}`;

/** Checks the demand against the pool; `sidecar` is one injected istio-proxy's requests. */
function fitOf(demand: Demand, pool: NodePool, sidecar: Requests): Fit {
    const node: Requests = { cpu: parseQuantity(pool.cpu) ?? 0, memory: parseQuantity(pool.memory) ?? 0 };
    let pods = ZERO;
    let perNode = ZERO;
    let largest: Fit["largest"];
    for (const group of demand.groups) {
        const each = injected(group, demand.injectedNamespaces) ? add(group.requests, sidecar) : group.requests;
        if (group.count === "every node") perNode = add(perNode, each);
        else pods = add(pods, times(each, group.count));
        if (
            largest === undefined ||
            each.cpu + each.memory / 2 ** 30 > largest.requests.cpu + largest.requests.memory / 2 ** 30
        )
            largest = { workload: group.workload, requests: each };
    }
    pods = add(pods, times(perNode, pool.nodes));
    const poolTotal = times(node, pool.nodes);
    const needed = add(pods, demand.quotas);
    const problems: string[] = [];
    const declared = `the node pool (nodePool: ${String(pool.nodes)} × ${pool.cpu} CPU, ${pool.memory}) holds ${both(poolTotal)}`;
    if (needed.cpu > poolTotal.cpu || needed.memory > poolTotal.memory) {
        problems.push(
            `the platform's pods request ${both(pods)} and the app namespaces' quotas ${both(demand.quotas)}, ${both(needed)} in all, but ${declared}`,
        );
    }
    for (const group of demand.groups) {
        const each = injected(group, demand.injectedNamespaces) ? add(group.requests, sidecar) : group.requests;
        const room =
            group.count === "every node" ? node : { cpu: node.cpu - perNode.cpu, memory: node.memory - perNode.memory };
        if (each.cpu > room.cpu || each.memory > room.memory) {
            problems.push(
                `a pod of ${group.workload} requests ${both(each)}, more than a node has beside the DaemonSets' pods (${both(room)}): it would never be scheduled`,
            );
        }
    }
    return { pods, quotas: demand.quotas, pool: poolTotal, perNode, largest, problems };
}

/**
 * Collects the stack's demand as its objects are registered (a stack transform sees every chart's and
 * manifest's objects too), and refuses the stack once all of them are: `registered` resolves after the
 * last object (the charts' and manifests' `resources`).
 */
export class NodePoolCheck {
    private readonly demand: Demand = { groups: [], injectedNamespaces: new Set(), quotas: ZERO };

    /** Register with `pulumi.runtime.registerResourceTransform` before the first resource. */
    readonly transform: pulumi.ResourceTransform = ({ props }) => {
        this.record(props);
        return undefined;
    };

    /** Records one object's demand (its plain values; an Output is not yet known and counts as unset). */
    record(object: Json): void {
        if (object.kind === "Namespace" && objectAt(object, "metadata", "labels")?.["istio-injection"] === "enabled") {
            const name = textAt(object, "metadata", "name");
            if (name !== undefined) this.demand.injectedNamespaces.add(name);
        }
        const quota = quotaOf(object);
        if (quota !== undefined) this.demand.quotas = add(this.demand.quotas, quota);
        this.demand.groups.push(...podGroupsOf(object));
    }

    /** The fit of what is recorded so far. */
    fit(pool: NodePool, sidecar: Requests): Fit {
        return fitOf(this.demand, pool, sidecar);
    }

    /** Refuses the stack, once `registered` resolves, if it does not fit `pool`. */
    enforce(registered: pulumi.Input<unknown>[], pool: NodePool, sidecar: Requests, stack: string): pulumi.Output<Fit> {
        return pulumi.all(registered).apply(() => {
            const fit = this.fit(pool, sidecar);
            if (fit.problems.length > 0) {
                throw new pulumi.RunError(`${stack} does not fit its node pool:\n  - ${fit.problems.join("\n  - ")}`);
            }
            void pulumi.log.info(
                `node pool: the platform's pods request ${both(fit.pods)}, the app namespaces' quotas ${both(fit.quotas)}; the pool holds ${both(fit.pool)}`,
            );
            return fit;
        });
    }
}
