/**
 * The cluster host's stand-ins for Knative's data plane, whose programs do not run here yet: revision pods'
 * queue-proxies answer the autoscaler's scrapes as idle ones do, and net-istio's status of each networking
 * Ingress is written as net-istio writes it once Istio's gateways are programmed. Both are listed in the
 * README's stand-in table with why they remain.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiAccess, kube } from "../kube-api.ts";
import { revisionPodAt } from "./objects.ts";

/** The port a revision pod's queue-proxy serves the autoscaler's metrics on (networking.AutoscalingQueueMetricsPort). */
export const QUEUE_METRICS_PORT = 9090;

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

/**
 * Stands in for revision pods' queue-proxies, whose containers do not run here: answers the autoscaler's
 * scrape of a revision pod with what an idle queue-proxy reports (Knative's Stat message: the pod's name, no
 * requests, its uptime), in the format the scrape asks for. Returns the loopback port it listens on.
 */
export async function serveIdleQueueProxies(access: ApiAccess): Promise<number> {
    const server = createServer((request, response) => {
        const ip = (request.headers.host ?? "").replace(/:\d+$/, "");
        revisionPodAt(access, ip).then(
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
    return (server.address() as AddressInfo).port;
}

interface KnativeIngress {
    metadata: { name: string; namespace: string; generation: number };
    status?: { observedGeneration?: number };
}

/**
 * Stands in for net-istio, which is not served as a Go module: marks each Knative networking Ingress ready
 * as net-istio does once Istio's gateways are programmed (its generation observed, LoadBalancerReady,
 * NetworkConfigured and Ready, and the gateways' addresses as its load balancers), so that Knative's
 * controller makes the Route ready.
 */
export async function markIngressesReady(access: ApiAccess): Promise<void> {
    const ingresses = await kube<{ items: KnativeIngress[] }>(
        access,
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
        await kube(
            access,
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
