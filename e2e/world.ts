/**
 * One end-to-end world: a fresh local simulated cluster, a file state backend and working
 * copies of the stack files, all in one temporary directory; stacks run on the toolchain's real
 * engine (toolchain/engine.ts) exactly as `npm run up` runs them. What a test does to a world to break it is in
 * faults.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { KubeConfig } from "@kubernetes/client-node";
import {
    type Backend,
    KUBECONFIG_KEY,
    type Project,
    copyProject,
    openStack,
    localClusterConfig,
    readProject,
} from "../toolchain/engine.ts";
import type { NodePool } from "../components/platform/config/index.ts";
import { type Account, usernameOf } from "../components/platform/preview-identity.ts";
import { previewKubeconfig } from "../scripts/preview-kubeconfig.ts";
import { kube } from "../toolchain/kube-api.ts";
import { type LocalCluster, startLocalCluster, stopLocalCluster } from "../toolchain/local-cluster.ts";

export const REPO = resolve(import.meta.dirname, "..");

export interface World {
    dir: string;
    cluster: LocalCluster;
    backend: Backend;
    /** Sends one request to the cluster's API as its admin. */
    kube: <T = unknown>(method: string, path: string, body?: unknown, contentType?: string) => Promise<T>;
    stop(): Promise<void>;
}

/** A world of its own: a local cluster with `pool`'s nodes (an environment's, or one roomy node) and a state backend. */
export async function startWorld(pool?: NodePool): Promise<World> {
    const dir = mkdtempSync(join(tmpdir(), "serverless-platform-e2e-"));
    const cluster = await startLocalCluster(join(dir, "cluster"), undefined, pool);
    return {
        dir,
        cluster,
        // The state is saved at the end of each operation only, unless a test that interrupts a run asks
        // for every step's checkpoint (`saveEveryStep`).
        backend: { url: `file://${join(dir, "state")}`, passphrase: "e2e", finalCheckpointOnly: true },
        kube: <T>(method: string, path: string, body?: unknown, contentType?: string) =>
            kube<T>(cluster, method, path, body, contentType),
        stop: () => stopLocalCluster(join(dir, "cluster"), { remove: process.env.E2E_KEEP_WORLD === undefined }),
    };
}

/** A project of the repository (its directory relative to the repo), or one a test writes. */
export function project(relativeDir: string): Project {
    return readProject(join(REPO, relativeDir));
}

/** Writes a one-off project (a Pulumi.yaml) whose program the test passes to {@link stackOf}. */
export function scratchProject(world: World, name: string): Project {
    const dir = join(world.dir, "projects", name);
    mkdirSync(dir, { recursive: true });
    // The CLI wants `main` to exist; the program itself is passed inline.
    writeFileSync(join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\nmain: .\n`);
    return readProject(dir);
}

/**
 * A stack of `project` in this world: a working copy of its stack file, the world's cluster
 * named in it (as a secret kubeconfig), throwaway values for the secrets it declares, and
 * `config` and `secrets` on top.
 */
export function stackOf(
    world: World,
    stackProject: Project,
    stack: string,
    options: {
        config?: Record<string, string>;
        /** Config set by path into object values, e.g. `serverless-platform:sources.istioChartRepository`. */
        configPaths?: Record<string, string>;
        secrets?: Record<string, string>;
        program?: automation.PulumiFn;
    } = {},
): Promise<automation.Stack> {
    const workDir = copyProject(stackProject, stack, join(world.dir, "work", stackProject.name));
    const config: Record<string, { value: string; secret?: boolean; path?: boolean }> = localClusterConfig(
        stackProject,
        stack,
        world.cluster,
    );
    for (const [key, value] of Object.entries(options.config ?? {})) config[key] = { value };
    for (const [key, value] of Object.entries(options.configPaths ?? {})) config[key] = { value, path: true };
    for (const [key, value] of Object.entries(options.secrets ?? {})) config[key] = { value, secret: true };
    return openStack({
        project: stackProject,
        stack,
        backend: world.backend,
        workDir,
        config,
        ...(options.program ? { program: options.program } : {}),
    });
}

/**
 * Runs `use` with `stack` reaching the world's cluster as `account` (a preview identity, with a kubeconfig made as
 * `npm run preview-kubeconfig` makes it), then as the cluster's admin again.
 */
export async function asPreviewIdentity<T>(
    world: World,
    stack: automation.Stack,
    account: Account,
    use: () => Promise<T>,
): Promise<T> {
    const deploy = new KubeConfig();
    deploy.loadFromFile(world.cluster.kubeconfig);
    const kubeconfig = await previewKubeconfig(deploy, account, 3600);
    await stack.setConfig(KUBECONFIG_KEY, { value: kubeconfig, secret: true });
    try {
        return await use();
    } finally {
        await stack.setConfig(KUBECONFIG_KEY, { value: readFileSync(world.cluster.kubeconfig, "utf8"), secret: true });
    }
}

/**
 * Whether the API server's own authorization lets ServiceAccount `account` do what `attributes` say (a
 * SubjectAccessReview, as `kubectl auth can-i --as system:serviceaccount:…` asks).
 */
export async function serviceAccountMay(
    world: World,
    account: Account,
    attributes: { verb: string; resource: string; namespace?: string; group?: string },
): Promise<boolean> {
    const review = await world.kube<{ status: { allowed: boolean } }>(
        "POST",
        "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        {
            apiVersion: "authorization.k8s.io/v1",
            kind: "SubjectAccessReview",
            spec: {
                user: usernameOf(account),
                groups: [
                    "system:serviceaccounts",
                    `system:serviceaccounts:${account.namespace}`,
                    "system:authenticated",
                ],
                resourceAttributes: attributes,
            },
        },
    );
    return review.status.allowed;
}

/** What the engine planned for one resource in a preview or update. */
export interface Step {
    op: string;
    type: string;
    name: string;
    /** Top-level properties that differ. */
    diffs: string[];
    /** Property paths that differ, with the kind of change (`update`, `add`, `delete`, `*-replace`). */
    detailedDiff: Record<string, string>;
}

/** Collects the engine's steps from its event stream (pass `onEvent` to preview or up). */
export function stepRecorder(): {
    onEvent: (event: automation.EngineEvent) => void;
    steps: Step[];
    changed(): Step[];
} {
    const steps: Step[] = [];
    return {
        steps,
        onEvent: (event) => {
            const metadata = event.resourcePreEvent?.metadata;
            if (metadata === undefined) return;
            steps.push({
                op: metadata.op,
                type: metadata.type,
                name: metadata.urn.split("::").at(-1) ?? metadata.urn,
                diffs: metadata.diffs ?? [],
                detailedDiff: Object.fromEntries(
                    Object.entries(metadata.detailedDiff ?? {}).map(([path, diff]) => [path, diff.diffKind]),
                ),
            });
        },
        // Reading a StackReference is no change.
        changed: () => steps.filter((step) => step.op !== "same" && step.op !== "read"),
    };
}

/**
 * The field managers that applied `object` by server-side apply, as Pulumi's provider does: a stack's own name,
 * or the provider's random one. Most controllers (Knative's) write by update and are not among them; Kubernetes'
 * ClusterRole aggregation controller applies.
 */
export function appliersOf(object: {
    metadata?: { managedFields?: { manager?: string; operation?: string }[] };
}): string[] {
    return (object.metadata?.managedFields ?? []).filter((f) => f.operation === "Apply").map((f) => f.manager ?? "");
}

/**
 * Waits for something the cluster's own controllers or host processes do after a call returns (a
 * bound for a hang, not a timing assumption: it returns as soon as `check` holds).
 */
export async function eventually(what: string, check: () => Promise<boolean>, minutes = 1): Promise<void> {
    for (let attempt = 0; attempt < minutes * 240; attempt++) {
        if (await check().catch(() => false)) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${what} did not happen within ${String(minutes)} minute(s)`);
}

/** What a preview with `--refresh` would change beyond reading the objects back (nothing, once converged). */
export async function changesAfterRefresh(stack: automation.Stack): Promise<Step[]> {
    const recorder = stepRecorder();
    await stack.preview({ refresh: true, onEvent: recorder.onEvent });
    return recorder.changed().filter((step) => step.op !== "refresh");
}
