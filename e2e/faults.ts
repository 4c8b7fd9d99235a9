/**
 * What the end-to-end tests do to a world (world.ts) to break it as clusters and machines break: an engine killed
 * mid-run, pods refused or held back, an API server that dies while it admits an object. Each returns what ends
 * it, or ends it itself, so that a test leaves its world as it found it.
 */
import { execFileSync } from "node:child_process";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { V1PodList } from "@kubernetes/client-node";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import {
    type PendingOperation,
    engineOutput,
    ensureFileBackendDirectory,
    pendingOperations,
    saveEveryStep,
} from "../toolchain/engine.ts";
import { explainFailure } from "../scripts/failures.ts";
import { signCertificate } from "../toolchain/cluster-credentials.ts";
import { admissionReviewOf, allowAdmission } from "../toolchain/host/admission.ts";
import { alive, readState, startLocalCluster } from "../toolchain/local-cluster.ts";
import { type World, eventually } from "./world.ts";

/**
 * Kills the engine of the `up` this test process runs (the Automation API runs the CLI as a child) at
 * once, as a lost machine or an OOM kill does. (Ctrl-C is the `signal` option of `up`: an AbortSignal
 * on which the Automation API sends the CLI SIGINT.)
 */
export function killEngine(): void {
    const lines = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
    const engines = lines
        .split("\n")
        .map((line) => line.trim().split(/\s+/))
        .filter(([, command, operation]) => command?.endsWith("/pulumi") === true && operation === "up");
    if (engines.length !== 1) throw new Error(`expected one engine running \`up\`, found: ${lines}`);
    process.kill(Number(engines[0]?.[0]), "SIGKILL");
}

/**
 * Refuses every new pod in `namespaces`, which need not exist yet (a ValidatingAdmissionPolicy), so that the
 * workloads there (a first `up`'s, a new revision's) are stored and the provider waits for their pods; the pods
 * already there run on. Unlike {@link holdNewPods} it leaves the node alone: right after the node was tainted, the
 * cluster briefly saw it not ready and stopped the programs of its pods (Knative's webhook among them). Returns
 * once the API server enforces it (it loads policies from a watch), with what lets the pods be made.
 */
export async function refusePodsIn(world: World, namespaces: string[]): Promise<() => Promise<void>> {
    const name = "serverless-platform-test-refuse-pods";
    const probeLabel = "serverless-platform.test/refuse-pods-probe";
    const policies = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
    const bindings = "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";
    await world.kube("POST", policies, {
        metadata: { name },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: {
                resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
            },
            validations: [
                {
                    // The probe is refused in any namespace: it tells when the policy is in force.
                    expression: `!(request.namespace in ${JSON.stringify(namespaces)} || (has(object.metadata.labels) && "${probeLabel}" in object.metadata.labels))`,
                    message: "the test refuses new pods here",
                },
            ],
        },
    });
    await world.kube("POST", bindings, { metadata: { name }, spec: { policyName: name, validationActions: ["Deny"] } });
    const probe = {
        metadata: { generateName: "refuse-pods-probe-", labels: { [probeLabel]: "true" } },
        spec: { containers: [{ name: "probe", image: "probe" }] },
    };
    await untilAPodIsRefused(world, "default", probe, "the test refuses new pods here");
    return async () => {
        await world.kube("DELETE", `${bindings}/${name}`);
        await world.kube("DELETE", `${policies}/${name}`);
    };
}

/**
 * Waits until the API server refuses a dry-run create of `pod` in `namespace` with an error containing `words`. It
 * loads a new admission policy or webhook configuration from a watch: one is in force only once a dry run says so.
 */
export async function untilAPodIsRefused(world: World, namespace: string, pod: object, words: string): Promise<void> {
    await eventually(`the API server refuses a pod in ${namespace} with "${words}"`, () =>
        world.kube("POST", `/api/v1/namespaces/${namespace}/pods?dryRun=All`, pod).then(
            () => false,
            (error: unknown) => String(error).includes(words),
        ),
    );
}

/**
 * Whether a pod (in `namespaces`, or anywhere) waits for a node: the scheduler found none that takes it
 * (every new pod is Pending for a moment, before it is scheduled).
 */
export async function aPodWaitsForANode(world: World, namespaces?: string[]): Promise<boolean> {
    const pending = await world.kube<V1PodList>("GET", "/api/v1/pods?fieldSelector=status.phase%3DPending");
    return pending.items.some(
        (pod) =>
            (namespaces === undefined || namespaces.includes(pod.metadata?.namespace ?? "")) &&
            (pod.status?.conditions ?? []).some(
                (condition) => condition.type === "PodScheduled" && condition.reason === "Unschedulable",
            ),
    );
}

/**
 * Taints the cluster's nodes so that no new pod is scheduled: a rollout or a new revision waits, and the
 * provider with it. Returns what lifts the taint (the cause fixed).
 */
export async function holdNewPods(world: World): Promise<() => Promise<void>> {
    const nodes = (await world.kube<{ items: { metadata: { name: string } }[] }>("GET", "/api/v1/nodes")).items.map(
        (node) => `/api/v1/nodes/${node.metadata.name}`,
    );
    const merge = "application/merge-patch+json";
    const taint = { key: "serverless-platform.test/hold", value: "new-pods", effect: "NoSchedule" };
    for (const node of nodes) await world.kube("PATCH", node, { spec: { taints: [taint] } }, merge);
    return async () => {
        for (const node of nodes) await world.kube("PATCH", node, { spec: { taints: null } }, merge);
    };
}

/**
 * Kills (SIGKILL) the stack's `up` once it waits on what `hold` holds back, then does what the failure and
 * `npm run up` advise: the next run is refused naming the stale lock, `pulumi cancel` clears it; the cause
 * fixed (`hold`'s release), `refresh --clear-pending-creates` drops the operations in flight. The run saves the
 * state after every step, as users' runs do. Returns the operations the killed run left in flight.
 */
export async function killWhileItWaits(
    stack: automation.Stack,
    environment: string,
    options: { hold: () => Promise<() => Promise<void>>; waiting: string; waits: () => Promise<boolean> },
): Promise<PendingOperation[]> {
    saveEveryStep(stack, true);
    const release = await options.hold();
    const killed = stack.up(engineOutput).then(
        () => "finished",
        () => "failed",
    );
    await eventually(options.waiting, options.waits, 10);
    killEngine();
    expect(await killed).toBe("failed");
    // Nothing a kill can leave half-written: no state file's sidecar is rewritten in place (engineBackendUrl).
    expect(backendSidecars(stack)).toEqual([]);
    const refused: unknown = await stack.up(engineOutput).then(
        () => undefined,
        (error: unknown) => error,
    );
    expect(explainFailure(refused, {}, environment)).toMatch(
        `clear the stale lock with \`pulumi cancel --stack ${environment}\``,
    );
    await stack.cancel();
    const inFlight = await pendingOperations(stack);
    await release();
    saveEveryStep(stack, false);
    await stack.refresh({ ...engineOutput, clearPendingCreates: true });
    expect(await pendingOperations(stack)).toEqual([]);
    return inFlight;
}

/** The metadata sidecars (`*.attrs`) in the stack's file backend, as paths under its directory. */
export function backendSidecars(stack: automation.Stack): string[] {
    const directory = ensureFileBackendDirectory(stack.workspace.envVars.PULUMI_BACKEND_URL ?? "");
    if (directory === undefined) throw new Error("the stack's backend is not a file backend");
    return readdirSync(directory, { recursive: true, encoding: "utf8" }).filter((path) => path.endsWith(".attrs"));
}

/**
 * Kills the world's API server (SIGKILL), as a crash or a lost machine ends it, and waits until it is gone
 * (on SIGTERM it stops answering at once but takes its time to exit, and the cluster counts as running until
 * it has). `startLocalCluster(world.cluster.dir)` brings the cluster back.
 */
export async function killApiServer(world: World): Promise<void> {
    const apiServer = readState(world.cluster.dir)?.pids["kube-apiserver"] ?? 0;
    process.kill(apiServer, "SIGKILL");
    await eventually("the API server stops", () => Promise.resolve(!alive(apiServer)));
}

/** A kind of object, as admission names it (the core group is ""). */
export interface AdmittedKind {
    group: string;
    resource: string;
}

/**
 * Runs `up` on `stack` while the world's API server dies (SIGKILL) admitting the run's first create of
 * `lostAt`: a validating webhook of the test's holds that request until the server is gone, so the object is
 * never stored and whatever depends on it is never sent, whichever of the engine's parallel steps comes
 * first. (Killing the server on the engine's own event raced the request: a workload stored just before
 * leaves the provider waiting for the cluster with no deadline.) Once the run has failed, the cluster starts
 * again, as a restarted control plane does, and the webhook goes. Returns how the run failed.
 */
export async function upLosingTheCluster(
    world: World,
    stack: automation.Stack,
    lostAt: AdmittedKind,
): Promise<unknown> {
    const outage = await clusterDyingAtAdmission(world, lostAt);
    try {
        return await stack.up(engineOutput).then(
            () => new Error(`the run succeeded: it created no ${lostAt.resource}`),
            (error: unknown) => error,
        );
    } finally {
        await outage.end();
    }
}

/**
 * Arms the webhook of {@link upLosingTheCluster}: its first admission of a real (not dry-run) create of
 * `kind` kills the API server and is never answered. `end()` starts the cluster again and removes it.
 */
async function clusterDyingAtAdmission(world: World, kind: AdmittedKind): Promise<{ end: () => Promise<void> }> {
    const { dir } = world.cluster;
    signCertificate(dir, "cluster-loss-webhook", "/CN=cluster-loss-webhook", "IP:127.0.0.1");
    let killed: Promise<void> | undefined;
    let probes = 0;
    const server = createHttpsServer(
        {
            key: readFileSync(join(dir, "cluster-loss-webhook.key")),
            cert: readFileSync(join(dir, "cluster-loss-webhook.crt")),
        },
        (request, response) => {
            void admissionReviewOf(request).then((review) => {
                if (request.url?.startsWith("/probe?")) probes += 1;
                else if (killed === undefined && review.request.dryRun !== true) {
                    killed = killApiServer(world).then(() => void request.socket.destroy());
                    return;
                }
                allowAdmission(response, review);
            });
        },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const webhook = (path: string) => ({
        clientConfig: {
            url: `https://127.0.0.1:${String((server.address() as AddressInfo).port)}${path}`,
            caBundle: readFileSync(join(dir, "ca.crt")).toString("base64"),
        },
        failurePolicy: "Fail",
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
    });
    const probeLabel = { "serverless-platform.test/cluster-loss-probe": "true" };
    const webhooks = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";
    const name = "serverless-platform-test-cluster-loss";
    await world.kube("POST", webhooks, {
        metadata: { name },
        webhooks: [
            {
                name: "cluster-loss.serverless-platform.test",
                rules: [
                    { apiGroups: [kind.group], apiVersions: ["*"], operations: ["CREATE"], resources: [kind.resource] },
                ],
                ...webhook("/lose"),
            },
            {
                // Answers the probe below only: the API server loads webhook configurations from a watch.
                name: "cluster-loss-probe.serverless-platform.test",
                rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["configmaps"] }],
                objectSelector: { matchLabels: probeLabel },
                ...webhook("/probe"),
            },
        ],
    });
    const remove = async () => {
        await world.kube("DELETE", `${webhooks}/${name}`);
        server.close();
    };
    await eventually("the API server calls the cluster-loss webhook", async () => {
        const probe = { metadata: { generateName: "cluster-loss-probe-", labels: probeLabel } };
        await world.kube("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", probe);
        return probes > 0;
    }).catch(async (error: unknown) => {
        await remove();
        throw error;
    });
    return {
        end: async () => {
            await killed;
            await startLocalCluster(dir);
            await remove();
        },
    };
}

/** What `npm run up` says when the cluster of `stack` stopped answering during a run. */
export function clusterLostAdvice(world: World, stack: string): string {
    return (
        `The cluster of stack ${stack} stopped answering at ${world.cluster.api} during the run; what the run did ` +
        "until then is in the cluster and its state. Once the cluster answers again (`npm run cluster -- start` " +
        `for the local one), run again with --refresh, which reads it back first: npm run up -- ${stack} --refresh`
    );
}
