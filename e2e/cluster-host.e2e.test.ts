/**
 * The simulated cluster's host (toolchain/cluster-host.ts) as the API server meets it: every call
 * the API server makes into the cluster goes through the host, which answers on loopback only
 * where something stands in for a Service's pods, and only while the Service has a ready endpoint.
 * What is asserted is the API server's own answer to an admission request.
 */
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { V1MutatingWebhookConfiguration } from "@kubernetes/client-node";
import { type World, eventually, startWorld } from "./world.ts";
import { untilAPodIsRefused } from "./faults.ts";

let world: World;

beforeAll(async () => {
    world = await startWorld();
}, 1_800_000);

afterAll(() => world.stop());

const pod = (namespace: string, name: string) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: { containers: [{ name: "app", image: "registry.example.com/app:1.0.0" }] },
});

/**
 * A mutating webhook on pods in namespaces labelled `webhook: <service>`, calling `service` with failure policy Fail,
 * once the API server calls it.
 */
async function podWebhook(namespace: string, service: string, path: string): Promise<void> {
    const podNamespace = `${service}-${namespace}-pods`;
    await world.kube("POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: podNamespace, labels: { webhook: service } },
    });
    // Pods are admitted only once the namespace has its default service account.
    await eventually(`the service account of ${podNamespace}`, async () => {
        await world.kube("GET", `/api/v1/namespaces/${podNamespace}/serviceaccounts/default`);
        return true;
    });
    await world.kube("POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: `${service}-pods` },
        webhooks: [
            {
                name: `pods.${service}.example.com`,
                clientConfig: { service: { name: service, namespace, path } },
                rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
                namespaceSelector: { matchLabels: { webhook: service } },
                failurePolicy: "Fail",
                sideEffects: "None",
                admissionReviewVersions: ["v1"],
            },
        ],
    });
    await untilAPodIsRefused(world, podNamespace, pod("", "probe"), `pods.${service}.example.com`);
}

describe("the API server's calls into the cluster", () => {
    test("a Service nothing stands in for is refused, in the API server's words, naming the Service and its pod", async () => {
        await world.kube("POST", "/api/v1/namespaces/default/services", {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "nobody" },
            spec: { selector: { app: "nobody" }, ports: [{ port: 443, targetPort: 8443 }] },
        });
        await podWebhook("default", "nobody", "/mutate");
        const create = () => world.kube("POST", "/api/v1/namespaces/nobody-default-pods/pods", pod("", "p"));
        await expect(create()).rejects.toThrow(
            /failed calling webhook \\"pods\.nobody\.example\.com\\".*code 503: 503 default\/nobody:443 has no ready endpoint/,
        );
        // A ready pod behind it, whose container does not run here.
        await world.kube("POST", "/api/v1/namespaces/default/pods", {
            ...pod("default", "nobody"),
            metadata: { name: "nobody", namespace: "default", labels: { app: "nobody" } },
        });
        await eventually("the pod behind nobody is a ready endpoint", async () => {
            const failure = await create().then(() => "", String);
            return failure.includes("nothing runs behind");
        });
        await expect(create()).rejects.toThrow(
            /503 nothing runs behind default\/nobody:443, pod 10\.244\.\d+\.\d+:8443 on the simulated cluster/,
        );
    });

    test("istiod's injection answers once istiod's pod is ready, with istiod's CA written in, from the templates of istiod's ConfigMap, as istiod does", async () => {
        await world.kube("POST", "/api/v1/namespaces", {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "istio-system" },
        });
        await world.kube("POST", "/api/v1/namespaces/istio-system/services", {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "istiod" },
            spec: { selector: { app: "istiod" }, ports: [{ name: "https-webhook", port: 443, targetPort: 15017 }] },
        });
        await podWebhook("istio-system", "istiod", "/inject");
        const injected = () =>
            world.kube("POST", "/api/v1/namespaces/istiod-istio-system-pods/pods", pod("", "injected"));
        // No istiod pod yet: the Service has no ready endpoint, and the injector's failure policy refuses the pod.
        await expect(injected()).rejects.toThrow(/istio-system\/istiod:443 has no ready endpoint/);

        await world.kube("POST", "/apis/apps/v1/namespaces/istio-system/deployments", {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "istiod" },
            spec: {
                selector: { matchLabels: { app: "istiod" } },
                template: {
                    metadata: { labels: { app: "istiod" } },
                    spec: { containers: [{ name: "discovery", image: "docker.io/istio/pilot:1.30.8" }] },
                },
            },
        });
        await eventually("istiod's CA in its webhook configuration", async () => {
            const configuration = await world.kube<V1MutatingWebhookConfiguration>(
                "GET",
                "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istiod-pods",
            );
            return (configuration.webhooks?.[0]?.clientConfig.caBundle ?? "") !== "";
        });
        // istiod reads its templates from the ConfigMap its chart writes; without it, no pod is admitted.
        await expect(injected()).rejects.toThrow(
            /istiod's ConfigMap istio-system\/istio-sidecar-injector, which istiod's chart writes, cannot be read/,
        );
        const configMap = (name: string, data: Record<string, string>) =>
            world.kube("POST", "/api/v1/namespaces/istio-system/configmaps", {
                apiVersion: "v1",
                kind: "ConfigMap",
                metadata: { name },
                data,
            });
        await configMap("istio", { mesh: "trustDomain: cluster.local\n" });
        await configMap("istio-sidecar-injector", {
            values: JSON.stringify({ global: { hub: "docker.io/istio", tag: "1.30.8" } }),
            config: [
                "defaultTemplates: [sidecar]",
                "policy: enabled",
                "templates:",
                "  sidecar: |",
                "    spec:",
                "      containers:",
                "      - name: istio-proxy",
                '        image: "{{ .ProxyImage }}"',
                '        args: ["--domain", "$(POD_NAMESPACE).svc.{{ .MeshConfig.TrustDomain }}"]',
            ].join("\n"),
        });
        const admitted = await injected();
        expect(admitted).toMatchObject({
            metadata: {
                name: "injected",
                annotations: { "sidecar.istio.io/status": expect.stringContaining("istio-proxy") },
            },
            spec: {
                containers: [
                    { name: "app" },
                    {
                        name: "istio-proxy",
                        image: "docker.io/istio/proxyv2:1.30.8",
                        args: ["--domain", "$(POD_NAMESPACE).svc.cluster.local"],
                    },
                ],
            },
        });
    });

    test("a caller that hangs up before its tunnel is answered ends that tunnel, not the host", async () => {
        const hostSocket = join(world.cluster.dir, "host.sock");
        // The host answers only after reading the cluster; this caller closes the connection first, as the API
        // server does when a webhook call times out.
        const caller = connect(hostSocket, () => {
            caller.write("CONNECT 10.96.0.99:443 HTTP/1.1\r\nHost: 10.96.0.99:443\r\n\r\n", () => {
                caller.destroy();
            });
        });
        await new Promise((resolve) => caller.on("close", resolve));
        const answer = await new Promise<string>((resolve, reject) => {
            const next = connect(hostSocket, () => {
                next.write("CONNECT 10.96.0.99:443 HTTP/1.1\r\nHost: 10.96.0.99:443\r\n\r\n");
            });
            let received = "";
            next.on("data", (chunk: Buffer) => (received += chunk.toString()));
            next.on("close", () => {
                resolve(received);
            });
            next.on("error", reject);
        });
        expect(answer).toMatch(/^HTTP\/1\.1 503 nothing runs behind pod 10\.96\.0\.99:443/);
    });
});
