/**
 * One way to run a Pulumi operation on one stack of this repository's projects (the platform or
 * an app stack such as `examples/spring-api`) with the local toolchain's engine: the Pulumi CLI
 * built from the Go module proxy, driven by the Automation API with an inline program. The
 * inline program imports the project's `main` and calls its default export, so it is the same
 * program a plain `pulumi up` runs; it needs no Node language host. Pass {@link engineOutput}
 * to an operation to stream the engine's own output to the terminal.
 *
 * Used by `npm run preview|up|destroy`, the end-to-end tests and the engine benchmark.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import * as automation from "@pulumi/pulumi/automation/index.js";
import { parse, parseDocument } from "yaml";
import { type EnginePieces, toolchain } from "./toolchain.ts";

/** A project of this repository as the engine sees it: its `Pulumi.yaml`, stack files and program. */
export interface Project {
    dir: string;
    name: string;
    /** The language runtime's name: `nodejs`, or `yaml` for a program written in Pulumi.yaml itself. */
    runtime: string;
    /** Absolute path of the program (`main` in Pulumi.yaml, `index.ts` by default). */
    main: string;
    /** Where the stack files are (`stackConfigDir`, the project directory by default). */
    stackConfigDir: string;
    /** The config keys Pulumi.yaml declares `secret: true` (without the project prefix). */
    secretKeys: string[];
}

export function readProject(dir: string): Project {
    const file = join(dir, "Pulumi.yaml");
    if (!existsSync(file)) throw new Error(`${dir} is not a Pulumi project (no Pulumi.yaml)`);
    const settings = parse(readFileSync(file, "utf8")) as {
        name: string;
        runtime: string | { name: string };
        main?: string;
        stackConfigDir?: string;
        config?: Record<string, { secret?: boolean }>;
    };
    return {
        dir: resolve(dir),
        name: settings.name,
        runtime: typeof settings.runtime === "string" ? settings.runtime : settings.runtime.name,
        main: resolve(dir, settings.main ?? "index.ts"),
        stackConfigDir: resolve(dir, settings.stackConfigDir ?? "."),
        secretKeys: Object.entries(settings.config ?? {})
            .filter(([, declared]) => declared.secret === true)
            .map(([key]) => key),
    };
}

/** `Pulumi.<stack>.yaml` of a project: its path and its `config` map. */
export function stackFile(project: Project, stack: string): { path: string; config: Record<string, unknown> } {
    const path = join(project.stackConfigDir, `Pulumi.${stack}.yaml`);
    const parsed = existsSync(path)
        ? (parse(readFileSync(path, "utf8")) as { config?: Record<string, unknown> } | null)
        : null;
    return { path, config: parsed?.config ?? {} };
}

/**
 * Copies a project's `Pulumi.yaml` and one stack file into `workDir` (same relative layout), so
 * that what the engine writes into stack files (the encryption salt, config set for a run) never
 * touches the checkout. A salt the copy already has is kept: it belongs to the stack's state.
 */
export function copyProject(project: Project, stack: string, workDir: string): string {
    const stackPath = stackFile(project, stack).path;
    const copiedStack = join(workDir, relative(project.dir, stackPath));
    mkdirSync(dirname(copiedStack), { recursive: true });
    const salt = existsSync(copiedStack)
        ? /^encryptionsalt: .*$/m.exec(readFileSync(copiedStack, "utf8"))?.[0]
        : undefined;
    const settings = parseDocument(readFileSync(join(project.dir, "Pulumi.yaml"), "utf8"));
    if (project.runtime === "nodejs") {
        // The CLI checks that `main` exists: the copy names the checkout's program.
        settings.set("main", project.main);
        // Dynamic providers (the platform's CrdSet) run from the project directory and load their packages
        // from its node_modules, as in the checkout.
        const modules = join(workDir, "node_modules");
        const found = nodeModulesOf(project.dir);
        if (found !== undefined && !existsSync(modules)) symlinkSync(found, modules);
    }
    // A package at a path (a component package of this repository) is found from the copy too.
    const { packages = {} } = settings.toJS() as { packages?: Record<string, string> };
    for (const [name, source] of Object.entries(packages)) {
        if (source.startsWith(".")) settings.setIn(["packages", name], resolve(project.dir, source));
    }
    writeFileSync(join(workDir, "Pulumi.yaml"), settings.toString());
    const original = existsSync(stackPath) ? readFileSync(stackPath, "utf8") : "config: {}\n";
    writeFileSync(
        copiedStack,
        salt === undefined ? original : `${salt}\n${original.replace(/^encryptionsalt: .*\n/m, "")}`,
    );
    return workDir;
}

/** The node_modules directory a project's packages are found in: its own, its nearest ancestor's, or none. */
function nodeModulesOf(dir: string): string | undefined {
    for (let at = dir; ; at = dirname(at)) {
        if (existsSync(join(at, "node_modules"))) return join(at, "node_modules");
        if (dirname(at) === at) return undefined;
    }
}

/** The key under which a stack names its cluster by kubeconfig. */
export const KUBECONFIG_KEY = "kubernetes:kubeconfig";

/**
 * Config that points a stack at a local cluster: the cluster's kubeconfig (a secret), and
 * values for the secrets the project declares (`secret: true` in Pulumi.yaml) that the stack file
 * leaves unset. Those are for a throwaway cluster only: derived from its own random token, so they
 * stay the same for the life of that cluster and mean nothing elsewhere.
 */
export function localClusterConfig(
    project: Project,
    stack: string,
    cluster: { kubeconfig: string; token: string },
): Record<string, { value: string; secret: true }> {
    const { config } = stackFile(project, stack);
    const secrets = project.secretKeys
        .filter((key) => !(`${project.name}:${key}` in config))
        .map((key): [string, { value: string; secret: true }] => [
            `${project.name}:${key}`,
            {
                value: createHmac("sha256", cluster.token)
                    .update(`${project.name}/${stack}/${key}`)
                    .digest("base64url")
                    .slice(0, 24),
                secret: true as const,
            },
        ]);
    return {
        [KUBECONFIG_KEY]: { value: readFileSync(cluster.kubeconfig, "utf8"), secret: true },
        ...Object.fromEntries(secrets),
    };
}

/** Where state lives and how secrets are encrypted. */
export interface Backend {
    url: string;
    passphrase: string;
    /**
     * Save the state once, at the end of each operation, instead of after every step
     * (PULUMI_SKIP_CHECKPOINTS): for throwaway test state only, which no interrupted run resumes.
     * The platform's state (6.5 MiB for dev) is rewritten at every step.
     */
    finalCheckpointOnly?: boolean;
}

/**
 * The URL the engine is given for `url`: a file backend (`file://`) is opened without metadata sidecars
 * (`metadata=skip`) unless the URL chooses. Its state files are renamed into place, so a killed run cannot cut
 * one short, but gocloud's fileblob rewrites each one's `.attrs` sidecar in place: a run killed (SIGKILL) at
 * that moment leaves it empty, and every later command on the stack fails with "failed to load checkpoint:
 * EOF" (CI met it). The backend needs nothing the sidecars hold.
 */
export function engineBackendUrl(url: string): string {
    if (!url.startsWith("file://")) return url;
    const queryStart = url.indexOf("?");
    const query = new URLSearchParams(queryStart < 0 ? "" : url.slice(queryStart + 1));
    if (query.has("metadata")) return url;
    return `${url}${queryStart < 0 ? "?" : "&"}metadata=skip`;
}

/** The directory a file backend's URL names (its options aside), created if missing; other backends: none. */
export function ensureFileBackendDirectory(url: string): string | undefined {
    if (!url.startsWith("file://")) return undefined;
    const [directory = ""] = url.slice("file://".length).split("?");
    mkdirSync(directory, { recursive: true });
    return directory;
}

/** Options of {@link openStack}. */
export interface OpenStackOptions {
    project: Project;
    stack: string;
    backend: Backend;
    /** Where `Pulumi.yaml` and the stack file are read from and written to. @default the project itself */
    workDir?: string;
    /**
     * Config set on the stack before the run (in `workDir`'s stack file), e.g. a cluster's
     * kubeconfig; with `path`, the key is a path into an object value (`project:sources.x`).
     */
    config?: Record<string, { value: string; secret?: boolean; path?: boolean }>;
    /** Runs instead of the project's `main` (the benchmark's raw baseline). */
    program?: automation.PulumiFn;
}

/** The toolchain's engine with the Kubernetes provider registered in its own Pulumi home. */
function engineEnvironment(pieces: EnginePieces, backend: Backend): Record<string, string> {
    const home = join(dirname(pieces.pulumiRoot), "pulumi-home");
    const env = {
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: engineBackendUrl(backend.url),
        PULUMI_CONFIG_PASSPHRASE: backend.passphrase,
        // Nothing may be downloaded, and only the toolchain's own plugins are used.
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "false",
        ...(backend.finalCheckpointOnly === true ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {}),
    };
    const plugin = join(home, "plugins", `resource-kubernetes-v${pieces.kubernetesProviderVersion}`);
    if (!existsSync(join(plugin, "pulumi-resource-kubernetes"))) {
        execFileSync(
            pieces.pulumi,
            [
                "plugin",
                "install",
                "resource",
                "kubernetes",
                `v${pieces.kubernetesProviderVersion}`,
                "--file",
                pieces.kubernetesProvider,
            ],
            { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] },
        );
    }
    return env;
}

/** Opens (creating it if needed) a stack of a project on the toolchain's engine. */
export async function openStack(options: OpenStackOptions): Promise<automation.Stack> {
    const { project, stack, backend } = options;
    const pieces = toolchain("engine");
    const envVars = engineEnvironment(pieces, backend);
    ensureFileBackendDirectory(backend.url);
    const pulumiCommand = await automation.PulumiCommand.get({ root: pieces.pulumiRoot });
    const workDir = options.workDir ?? project.dir;
    const workspace = { workDir, pulumiCommand, envVars, pulumiHome: envVars.PULUMI_HOME };
    const nodeProgram = async () => {
        const module = (await import(pathToFileURL(project.main).href)) as { default: () => unknown };
        return (await module.default()) as Record<string, unknown> | undefined;
    };
    // A program in another language (Pulumi YAML) is run by the CLI with that language's host.
    const workspaceStack =
        options.program === undefined && project.runtime !== "nodejs"
            ? await automation.LocalWorkspace.createOrSelectStack({ stackName: stack, workDir }, workspace)
            : await automation.LocalWorkspace.createOrSelectStack(
                  { projectName: project.name, stackName: stack, program: options.program ?? nodeProgram },
                  workspace,
              );
    for (const [key, entry] of Object.entries(options.config ?? {})) {
        await workspaceStack.setConfig(key, { value: entry.value, secret: entry.secret ?? false }, entry.path);
    }
    return workspaceStack;
}

/**
 * Makes the stack's next runs save the state after every step, as users' runs do (a run a test means to
 * interrupt), or again only at the end, as its backend's `finalCheckpointOnly` asked.
 */
export function saveEveryStep(stack: automation.Stack, every: boolean): void {
    if (every) delete stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS;
    else stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
}

/** An operation an interrupted run left in flight: the state does not know how it ended. */
export interface PendingOperation {
    /** `creating`, `updating`, `deleting`, `reading`, … as the state records it. */
    type: string;
    urn: string;
}

/** The operations the stack's last run left in flight (none unless it was interrupted). */
export async function pendingOperations(stack: automation.Stack): Promise<PendingOperation[]> {
    const { deployment } = (await stack.exportStack()) as {
        deployment: { pending_operations?: { type: string; resource: { urn: string } }[] };
    };
    return (deployment.pending_operations ?? []).map((op) => ({ type: op.type, urn: op.resource.urn }));
}

/** The engine's own output, as it comes, to this process's stdout and stderr (pass to preview, up, destroy). */
export const engineOutput = {
    onOutput: (text: string): void => {
        process.stdout.write(text);
    },
    onError: (text: string): void => {
        process.stderr.write(text);
    },
};
