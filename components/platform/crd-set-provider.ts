/**
 * How a {@link CrdSetInputs} record is applied: the dynamic provider of `CrdSet` (`crds.ts`). It runs in the
 * engine's Node dynamic-provider host, from the code Pulumi serializes into the state, not in the program: it may
 * use nothing the program imports, only what it `require`s itself (resolved from the project directory, as the
 * host runs there). Its stored inputs are names and digests; the CRDs' bodies come from files the program writes.
 */
import type * as KubernetesClient from "@kubernetes/client-node";
import type * as pulumi from "@pulumi/pulumi";

/**
 * The cluster the CRDs go to: the stack's `kubernetes:kubeconfig` or `kubernetes:context`, the keys the platform's
 * Kubernetes provider is configured from, which the host is configured with (`DynamicResourceHost`, cluster.ts)
 * when it starts; never in a CrdSet's stored inputs.
 */
interface CrdSetCluster {
    kubeconfig?: string | undefined;
    context?: string | undefined;
}
const cluster: CrdSetCluster = {};

/** What a CrdSet stores: which artefact, and each of its CRDs by name and digest. */
export interface CrdSetOutputs {
    /** The upstream artefact the CRDs come from, e.g. `kube-prometheus-stack 88.5.3`. */
    artefact: string;
    /** Each CRD's name → `sha256:<hex>` of its manifest as JSON. */
    crds: Record<string, string>;
    /** The server-side apply field manager: the stack's, as for every object the stack applies. */
    fieldManager: string;
}

export interface CrdSetInputs extends CrdSetOutputs {
    /** The directory holding each CRD's manifest as `<hex>.json`, written by the program before the apply. */
    bodies: string;
}

/** How long a CRD may take to be Established before the apply fails. */
const ESTABLISHED_TIMEOUT_MS = 120_000;

function recorded({ artefact, crds, fieldManager }: CrdSetInputs): CrdSetOutputs {
    return { artefact, crds, fieldManager };
}

const CRDS_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

type Request = (method: string, path: string, body?: string) => Promise<unknown>;

/**
 * Requests to the cluster's API server with the kubeconfig's credentials (exec plugins included). Raw HTTP, not the
 * client's typed API: its serializer keeps only the fields its models name, and drops a schema's `x-kubernetes-*`
 * extensions (an int-or-string field's), which the API server then refuses.
 */
function connect(): Request {
    /* eslint-disable @typescript-eslint/no-require-imports -- see the module comment: the host has no ESM imports */
    const client = require("@kubernetes/client-node") as typeof KubernetesClient;
    const https = require("node:https") as typeof import("node:https");
    const http = require("node:http") as typeof import("node:http");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const config = new client.KubeConfig();
    if (cluster.kubeconfig !== undefined) {
        config.loadFromString(cluster.kubeconfig);
    } else {
        config.loadFromDefault();
        if (cluster.context !== undefined) config.setCurrentContext(cluster.context);
    }
    const server = config.getCurrentCluster()?.server;
    if (server === undefined) throw new Error("the kubeconfig names no cluster");
    return async (method, path, body) => {
        const options: import("node:https").RequestOptions = {
            method,
            headers: {
                accept: "application/json",
                ...(body === undefined ? {} : { "content-type": "application/apply-patch+yaml" }),
            },
        };
        await config.applyToHTTPSOptions(options);
        const url = new URL(`${server.replace(/\/$/, "")}${path}`);
        const transport = url.protocol === "http:" ? http : https;
        return new Promise((resolve, reject) => {
            const call = transport.request(url, options, (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    const status = response.statusCode ?? 0;
                    if (status >= 200 && status < 300) {
                        resolve(JSON.parse(text));
                        return;
                    }
                    const message = (() => {
                        try {
                            return (JSON.parse(text) as { message?: string }).message ?? text;
                        } catch {
                            return text;
                        }
                    })();
                    reject(Object.assign(new Error(`${method} ${url.pathname}: ${status} ${message}`), { status }));
                });
            });
            call.on("error", reject);
            if (body !== undefined) call.write(body);
            call.end();
        });
    };
}

/**
 * Applies the named CRDs by server-side apply, forcing conflicts, as the Prometheus Operator and Istio advise
 * for their CRDs (`kubectl apply --server-side --force-conflicts`): the stack owns their definitions. Then waits
 * until the API server serves each (its `Established` condition).
 */
async function applyCrds(inputs: CrdSetInputs, names: string[]): Promise<void> {
    /* eslint-disable @typescript-eslint/no-require-imports -- see the module comment: the host has no ESM imports */
    const fs = require("node:fs") as typeof import("node:fs");
    const crypto = require("node:crypto") as typeof import("node:crypto");
    const path = require("node:path") as typeof import("node:path");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const request = connect();
    const manager = encodeURIComponent(inputs.fieldManager);
    for (const name of names) {
        const digest = inputs.crds[name] ?? "";
        const file = path.join(inputs.bodies, `${digest.replace(/^sha256:/, "")}.json`);
        let text: string;
        try {
            text = fs.readFileSync(file, "utf8");
        } catch {
            throw new Error(`${inputs.artefact}: no manifest for CRD ${name} at ${file} (the program writes it)`);
        }
        if (`sha256:${crypto.createHash("sha256").update(text).digest("hex")}` !== digest) {
            throw new Error(`${inputs.artefact}: ${file} is not the manifest of CRD ${name} (${digest})`);
        }
        await request("PATCH", `${CRDS_PATH}/${name}?fieldManager=${manager}&force=true`, text);
    }
    const deadline = Date.now() + ESTABLISHED_TIMEOUT_MS;
    for (const name of names) {
        const crd = await waitFor<KubernetesClient.V1CustomResourceDefinition>(deadline, async () => {
            const crd = (await request("GET", `${CRDS_PATH}/${name}`)) as KubernetesClient.V1CustomResourceDefinition;
            const conditions = crd.status?.conditions ?? [];
            if (conditions.some((c) => c.type === "Established" && c.status === "True")) return { value: crd };
            const said = conditions.map((c) => `${c.type}=${c.status} ${c.message ?? ""}`).join("; ");
            return { waiting: `${inputs.artefact}: CRD ${name} not Established after 2 minutes (${said})` };
        });
        // Established comes a moment before the API server's discovery lists the kind, which is where the Kubernetes
        // provider learns whether a kind is namespaced: a manifest applied in that moment fails on its custom resources.
        for (const version of crd.spec.versions.filter((v) => v.served)) {
            const path = `/apis/${crd.spec.group}/${version.name}`;
            await waitFor(deadline, async () => {
                const list = (await request("GET", path).catch(() => ({}))) as { resources?: { name: string }[] };
                return list.resources?.some((resource) => resource.name === crd.spec.names.plural)
                    ? { value: true }
                    : { waiting: `${inputs.artefact}: ${path} does not list ${crd.spec.names.plural} after 2 minutes` };
            });
        }
    }
}

/** Asks `poll` every half second until it gives a value; past the deadline, fails with what it was waiting for. */
async function waitFor<T>(deadline: number, poll: () => Promise<{ value: T } | { waiting: string }>): Promise<T> {
    for (;;) {
        const answer = await poll();
        if ("value" in answer) return answer.value;
        if (Date.now() > deadline) throw new Error(answer.waiting);
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

/** The provider; its code is serialized into every CrdSet's state, so it stays small. */
export const crdSetProvider: pulumi.dynamic.ResourceProvider<CrdSetInputs, CrdSetOutputs> = {
    configure({ config }) {
        cluster.kubeconfig = config.get("kubernetes:kubeconfig");
        cluster.context = config.get("kubernetes:context");
        return Promise.resolve();
    },
    async create(inputs) {
        await applyCrds(inputs, Object.keys(inputs.crds));
        return { id: inputs.artefact, outs: recorded(inputs) };
    },
    // Only the names and digests, and the owner, matter: where the bodies are and how the cluster is reached
    // may differ from one machine to the next.
    diff(_id, olds, news) {
        const names = new Set([...Object.keys(olds.crds), ...Object.keys(news.crds)]);
        const changed = [...names].some((name) => olds.crds[name] !== news.crds[name]);
        return Promise.resolve({
            changes: changed || olds.fieldManager !== news.fieldManager || olds.artefact !== news.artefact,
        });
    },
    async update(_id, olds, news) {
        const changed = Object.keys(news.crds).filter(
            (name) => olds.crds[name] !== news.crds[name] || olds.fieldManager !== news.fieldManager,
        );
        await applyCrds(news, changed);
        return { outs: recorded(news) };
    },
    // A refresh finds which CRDs the cluster still serves: one deleted by hand is applied again by the next `up`.
    async read(id, stored) {
        if (stored === undefined) return { id };
        const request = connect();
        const served: Record<string, string> = {};
        for (const [name, digest] of Object.entries(stored.crds)) {
            const found = await request("GET", `${CRDS_PATH}/${name}`).then(
                () => true,
                (error: unknown) => {
                    if ((error as { status?: number }).status === 404) return false;
                    throw error;
                },
            );
            if (found) served[name] = digest;
        }
        return { id, props: { ...stored, crds: served } };
    },
    // Lets go of the CRDs: deleting one deletes every object of its kind in every namespace (see crds.ts).
    async delete() {
        // nothing to do in the cluster
    },
};
