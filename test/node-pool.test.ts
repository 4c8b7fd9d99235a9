import { describe, expect, test } from "vitest";
import { NodePoolCheck, containerRequests, podGroupsOf, podRequests } from "../components/platform/node-pool.ts";

const Mi = 2 ** 20;
const Gi = 2 ** 30;
const SIDECAR = { cpu: 0.1, memory: 128 * Mi };

const container = (name: string, cpu: string, memory: string, extra: Record<string, unknown> = {}) => ({
    name,
    resources: { requests: { cpu, memory } },
    ...extra,
});

const deployment = (namespace: string, name: string, replicas: number, labels: Record<string, string> = {}) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
        replicas,
        template: { metadata: { labels }, spec: { containers: [container("main", "500m", "1Gi")] } },
    },
});

describe("a pod's requests, as the scheduler counts them", () => {
    test("its containers together; limits stand for requests they do not set", () => {
        expect(
            podRequests({
                containers: [
                    container("a", "250m", "256Mi"),
                    { name: "b", resources: { limits: { cpu: "1", memory: "1Gi" } } },
                ],
            }),
        ).toEqual({ cpu: 1.25, memory: 1280 * Mi });
    });

    test("a plain init container counts only if it asks for more than the running pod; sidecar init containers add up", () => {
        const spec = {
            initContainers: [
                container("setup", "2", "64Mi"),
                container("proxy", "100m", "128Mi", { restartPolicy: "Always" }),
            ],
            containers: [container("app", "500m", "1Gi")],
        };
        expect(podRequests(spec)).toEqual({ cpu: 2, memory: 1152 * Mi });
    });

    test("an operator's default stands in for a container that sets nothing", () => {
        expect(containerRequests({ name: "elasticsearch" }, { cpu: 0, memory: 2 * Gi })).toEqual({
            cpu: 0,
            memory: 2 * Gi,
        });
    });
});

describe("the pods an object makes", () => {
    test("workloads by their replicas, DaemonSets on every node, Prometheus with its config reloader", () => {
        expect(podGroupsOf(deployment("knative-serving", "activator", 2))).toMatchObject([
            { workload: "Deployment knative-serving/activator", count: 2 },
        ]);
        expect(
            podGroupsOf({
                apiVersion: "apps/v1",
                kind: "DaemonSet",
                metadata: { name: "fluent-bit", namespace: "monitoring" },
                spec: { template: { spec: { containers: [container("fb", "100m", "128Mi")] } } },
            }),
        ).toMatchObject([{ count: "every node" }]);
        expect(
            podGroupsOf({
                apiVersion: "monitoring.coreos.com/v1",
                kind: "Prometheus",
                metadata: { name: "prometheus", namespace: "monitoring" },
                spec: { replicas: 2, resources: { requests: { cpu: "200m", memory: "1Gi" } } },
            }),
        ).toMatchObject([{ count: 2, requests: { memory: Gi + 50 * Mi } }]);
        expect(
            podGroupsOf({
                apiVersion: "kibana.k8s.elastic.co/v1",
                kind: "Kibana",
                metadata: { name: "logs", namespace: "monitoring" },
                spec: { count: 2 },
            }),
        ).toMatchObject([{ count: 2, requests: { cpu: 0, memory: 2 * Gi } }]);
        expect(podGroupsOf({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } })).toEqual([]);
    });
});

describe("the fit", () => {
    const recorded = (): NodePoolCheck => {
        const check = new NodePoolCheck();
        check.record({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "games", labels: { "istio-injection": "enabled" } },
        });
        check.record(deployment("games", "api", 4));
        check.record(deployment("istio-system", "istiod", 1));
        check.record({
            apiVersion: "v1",
            kind: "ResourceQuota",
            metadata: { name: "app-quota", namespace: "games" },
            spec: { hard: { "requests.cpu": "4", "requests.memory": "8Gi" } },
        });
        return check;
    };

    test("counts the sidecar Istio injects into the pods of an injected namespace, and the quotas", () => {
        const fit = recorded().fit({ nodes: 2, cpu: "8", memory: "32Gi" }, SIDECAR);
        expect(fit.pods).toEqual({ cpu: 4 * 0.6 + 0.5, memory: 4 * (Gi + 128 * Mi) + Gi });
        expect(fit.quotas).toEqual({ cpu: 4, memory: 8 * Gi });
        expect(fit.problems).toEqual([]);
    });

    test("a pool too small is refused with the sums and the pool", () => {
        expect(recorded().fit({ nodes: 1, cpu: "4", memory: "16Gi" }, SIDECAR).problems).toEqual([
            "the platform's pods request 2.9 CPU and 5.5Gi and the app namespaces' quotas 4 CPU and 8Gi, 6.9 CPU and 13.5Gi in all, but the node pool (nodePool: 1 × 4 CPU, 16Gi) holds 4 CPU and 16Gi",
        ]);
    });

    test("a pod larger than any node is refused by name, whatever the pool's total", () => {
        const check = new NodePoolCheck();
        check.record({
            apiVersion: "elasticsearch.k8s.elastic.co/v1",
            kind: "Elasticsearch",
            metadata: { name: "logs", namespace: "monitoring" },
            spec: { nodeSets: [{ name: "default", count: 1 }] },
        });
        const { problems } = check.fit({ nodes: 10, cpu: "4", memory: "1Gi" }, SIDECAR);
        expect(problems).toEqual([
            "a pod of Elasticsearch monitoring/logs (default) requests 0 CPU and 2Gi, more than a node has beside the DaemonSets' pods (4 CPU and 1Gi): it would never be scheduled",
        ]);
    });
});
