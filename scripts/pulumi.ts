/**
 * `npm run preview|up|destroy -- <stack> [options]`: one Pulumi operation on one stack of the
 * platform (or of an app stack with `--project examples/spring-api`).
 *
 * Which cluster is the stack file's business: `kubernetes:context` or `kubernetes:kubeconfig`.
 * A stack that names neither never falls back to the ambient kubeconfig (a user with prod
 * selected must not get dev installed on prod): it deploys to the local simulated cluster,
 * started on demand, with state and a working copy of the stack file under `.cache/`.
 *
 * Which engine: for a real cluster, the Pulumi CLI on PATH when there is one (this stays a
 * plain Pulumi project); otherwise, and always for the local cluster, the toolchain's engine
 * (built from the Go module proxy on first use) running the program inline.
 */
import { spawnSync } from "node:child_process";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { ENVIRONMENTS } from "../components/shared/environments.ts";
import {
    type Backend,
    KUBECONFIG_KEY,
    copyProject,
    engineBackendUrl,
    engineOutput,
    ensureFileBackendDirectory,
    localClusterConfig,
    openStack,
    pendingOperations,
    readProject,
    stackFile,
} from "../toolchain/engine.ts";
import { startLocalCluster } from "../toolchain/local-cluster.ts";
import type { NodePool } from "../components/platform/config/index.ts";
import { NODE_POOL_SCHEMA } from "../components/platform/config/node-pool.ts";
import { defaultsOf } from "../components/platform/config/schema.ts";
import { explainFailure, explainPendingOperations } from "./failures.ts";
import { LOCAL_CLUSTER_DIR } from "./local.ts";

const OPERATIONS = ["preview", "up", "destroy"] as const;
type Operation = (typeof OPERATIONS)[number];
const LOCAL_PASSPHRASE = "local-cluster";

const usage = `usage: npm run <${OPERATIONS.join("|")}> -- <stack> [--project DIR] [--diff] [--expect-no-changes]
       [--refresh] [--policy-pack DIR] [--policy-pack-config FILE]`;

function fail(message: string): never {
    console.error(message);
    process.exit(2);
}

const [operation, ...rest] = process.argv.slice(2);
if (!(OPERATIONS as readonly string[]).includes(operation ?? "")) fail(usage);
let parsed: ReturnType<typeof parseOptions>;
function parseOptions(args: string[]) {
    return parseArgs({
        args,
        allowPositionals: true,
        options: {
            project: { type: "string", default: "." },
            diff: { type: "boolean", default: false },
            "expect-no-changes": { type: "boolean", default: false },
            refresh: { type: "boolean", default: false },
            "policy-pack": { type: "string" },
            "policy-pack-config": { type: "string" },
        },
    });
}
try {
    parsed = parseOptions(rest);
} catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
}
const { values: options, positionals } = parsed;
const [stack] = positionals;
if (stack === undefined || positionals.length > 1) fail(usage);

const project = readProject(options.project);
const isPlatform = project.dir === resolve(".");
if (isPlatform && !(ENVIRONMENTS as readonly string[]).includes(stack)) {
    fail(`"${stack}" is not an environment of the platform; use one of: ${ENVIRONMENTS.join(", ")}`);
}
const { path: stackPath, config } = stackFile(project, stack);
const namedCluster = ["kubernetes:context", KUBECONFIG_KEY].find((key) => key in config);

function pulumiOnPath(): boolean {
    return spawnSync("pulumi", ["version"], { stdio: "ignore" }).status === 0;
}

/** The CLI's own flags for the options above, for a user's Pulumi CLI. */
function cliFlags(): string[] {
    return [
        ...(options.diff ? ["--diff"] : []),
        ...(options["expect-no-changes"] ? ["--expect-no-changes"] : []),
        ...(options.refresh ? ["--refresh"] : []),
        ...(options["policy-pack"] ? ["--policy-pack", options["policy-pack"]] : []),
        ...(options["policy-pack-config"] ? ["--policy-pack-config", options["policy-pack-config"]] : []),
    ];
}

/** State in PULUMI_BACKEND_URL, or a local file backend in .pulumi-state/ (no account needed). */
function backendUrl(): string {
    const url = process.env.PULUMI_BACKEND_URL ?? `file://${resolve(".pulumi-state")}`;
    ensureFileBackendDirectory(url);
    return url;
}

function defaultBackend(): Backend {
    const url = backendUrl();
    const passphrase = process.env.PULUMI_CONFIG_PASSPHRASE;
    if (passphrase === undefined) {
        fail("Set PULUMI_CONFIG_PASSPHRASE: it encrypts this stack's secrets in the state backend.");
    }
    return { url, passphrase };
}

/** Runs the operation; `refresh` reads the cluster back first (unless that was just done). */
async function run(stack: automation.Stack, op: Operation, refresh: boolean): Promise<void> {
    const common = {
        ...engineOutput,
        color: "auto" as const,
        refresh,
        ...(options["policy-pack"] ? { policyPacks: [resolve(options["policy-pack"])] } : {}),
        ...(options["policy-pack-config"] ? { policyPackConfigs: [resolve(options["policy-pack-config"])] } : {}),
    };
    if (op === "preview") {
        await stack.preview({ ...common, diff: options.diff, expectNoChanges: options["expect-no-changes"] });
    } else if (op === "up") {
        await stack.up({ ...common, diff: options.diff, expectNoChanges: options["expect-no-changes"] });
    } else {
        await stack.destroy({ ...engineOutput, color: "auto", refresh });
    }
}

async function main(op: Operation, stackName: string): Promise<number> {
    if (namedCluster !== undefined && pulumiOnPath()) {
        console.error(`Stack ${stackName} names its cluster (${namedCluster}); running your Pulumi CLI.`);
        const cwd = ["--cwd", project.dir];
        const env = { ...process.env, PULUMI_BACKEND_URL: engineBackendUrl(backendUrl()) };
        const selected = spawnSync("pulumi", ["stack", "select", "--create", stackName, ...cwd], {
            stdio: "inherit",
            env,
        });
        if (selected.status !== 0) return selected.status ?? 1;
        const yes = op === "preview" ? [] : ["--yes"];
        return (
            spawnSync("pulumi", [op, "--stack", stackName, ...cwd, ...yes, ...cliFlags()], { stdio: "inherit", env })
                .status ?? 1
        );
    }

    let workDir: string | undefined;
    let backend: Backend;
    const stackConfig: Record<string, { value: string; secret: boolean }> = {};
    if (namedCluster !== undefined) {
        console.error(
            `Stack ${stackName} names its cluster (${namedCluster}); no Pulumi CLI on PATH, so the toolchain's engine runs it.`,
        );
        backend = defaultBackend();
    } else {
        console.error(
            `Stack ${stackName} names no cluster (neither kubernetes:context nor kubernetes:kubeconfig in ${relative(".", stackPath)}),\n` +
                `so it goes to the LOCAL SIMULATED CLUSTER (no container runtime: pods are simulated, nothing serves traffic).\n` +
                `To use a real cluster, name it: pulumi config set kubernetes:context <context> --stack ${stackName}`,
        );
        // Made with the node pool of the first platform stack that starts it (one roomy node otherwise).
        const nodePool = config["serverless-platform:nodePool"] as NodePool | undefined;
        const cluster = await startLocalCluster(
            join(LOCAL_CLUSTER_DIR, "cluster"),
            (line) => {
                console.error(line);
            },
            nodePool === undefined ? undefined : { ...defaultsOf(NODE_POOL_SCHEMA), ...nodePool },
        );
        workDir = copyProject(project, stackName, join(LOCAL_CLUSTER_DIR, "work", project.name));
        backend = {
            url: `file://${join(LOCAL_CLUSTER_DIR, "state")}`,
            passphrase: process.env.PULUMI_CONFIG_PASSPHRASE ?? LOCAL_PASSPHRASE,
        };
        Object.assign(stackConfig, localClusterConfig(project, stackName, cluster));
        const throwaway = Object.keys(stackConfig).filter((key) => key !== KUBECONFIG_KEY);
        if (throwaway.length > 0) console.error(`Throwaway values for the local cluster: ${throwaway.join(", ")}.`);
    }
    // Ctrl-C reaches the engine too (one process group): it starts nothing new, lets the steps in flight end
    // and saves the state. This process waits for it, instead of exiting and cutting off the engine's output.
    process.on("SIGINT", () => {
        console.error(
            "Ctrl-C: the engine is letting the steps in flight end and saving the state (Ctrl-C again stops it at once).",
        );
    });
    const stack = await openStack({
        project,
        stack: stackName,
        backend,
        config: stackConfig,
        ...(workDir ? { workDir } : {}),
    });
    try {
        // A run killed mid-operation leaves operations in flight: the state must be read back from the
        // cluster (refresh) before anything else runs on it.
        const pending = await pendingOperations(stack);
        if (pending.length > 0) {
            if (!options.refresh) {
                console.error(explainPendingOperations(stackName, pending));
                return 1;
            }
            await stack.refresh({ ...engineOutput, color: "auto", clearPendingCreates: true });
        }
        await run(stack, op, options.refresh && pending.length === 0);
        return 0;
    } catch (error) {
        console.error(explainFailure(error, config, stackName));
        return 1;
    }
}

process.exit(await main(operation as Operation, stack));
