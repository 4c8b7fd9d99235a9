import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readClusterFacts } from "../components/platform/cluster-facts.ts";

/** What an API server with one CRD and nothing of the platform answers, and the Accept header of each request. */
const accepted = new Map<string, string | undefined>();
/** The CRDs' metadata the API server lists: as it answers, null when there are none. */
let crdItems: object[] | null = [];
function answer(path: string): [number, object] {
    if (path === "/version") return [200, { major: "1", minor: "34", gitVersion: "v1.34.4" }];
    if (path === "/apis/storage.k8s.io/v1/storageclasses")
        return [200, { kind: "StorageClassList", items: [{ metadata: { name: "standard" }, provisioner: "x" }] }];
    if (path === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
        // A PartialObjectMetadataList: metadata only, as asked.
        return [
            200,
            {
                kind: "PartialObjectMetadataList",
                apiVersion: "meta.k8s.io/v1",
                items: crdItems,
            },
        ];
    return [404, { kind: "Status", code: 404, reason: "NotFound" }];
}
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    accepted.set(path, request.headers.accept);
    const [status, body] = answer(path);
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
});

let kubeconfig = "";
beforeAll(async () => {
    await new Promise<void>((resolve) => {
        server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    kubeconfig = JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: {} }],
        contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
        "current-context": "c",
    });
});
afterAll(
    () =>
        new Promise<void>((resolve) => {
            server.close(() => {
                resolve();
            });
        }),
);

describe("readClusterFacts", () => {
    test("reads a cluster without the platform, and asks for the CRDs' metadata only, not their schemas", async () => {
        crdItems = [{ kind: "PartialObjectMetadata", metadata: { name: "widgets.example.com" } }];
        const facts = await readClusterFacts({ kubeconfig: pulumi.output(kubeconfig), context: undefined });
        expect(facts).toEqual({
            kubernetes: "1.34",
            installedKnative: undefined,
            installedIstio: undefined,
            installedElasticsearch: undefined,
            storageClasses: { names: ["standard"], default: undefined },
            crds: ["widgets.example.com"],
        });
        expect(accepted.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")).toBe(
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        );
    });

    test("reads a cluster without CRDs, whose API server lists their metadata as null", async () => {
        crdItems = null;
        const facts = await readClusterFacts({ kubeconfig: pulumi.output(kubeconfig), context: undefined });
        expect(facts.crds).toEqual([]);
    });
});
