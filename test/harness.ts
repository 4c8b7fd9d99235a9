/**
 * Runs Pulumi programs under the SDK's mocks and records what they register.
 *
 * The mocks behave like the engine and the Kubernetes provider where tests
 * depend on it: objects without `metadata.name` are auto-named
 * `<name>-<8 hex>` (deterministic here, random in the engine), and namespaced
 * objects get the id `<namespace>/<name>`, and transforms are applied as the
 * engine applies them (a resource's own, then its ancestors', then the
 * stack's). They invent no status: what a cluster reports (a Knative
 * Service's URL, say) is proven on the real engine (e2e/), never here.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/** One registered resource: its type, name, resolved inputs and options. */
export interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
    options: pulumi.ResourceOptions;
    /** URN-free parent name, for "is parented to" checks. */
    parentName: string | undefined;
    /** The explicit provider that manages it, as the engine names it: `<urn>::<id>`. */
    provider: string | undefined;
}

/** Which Pulumi stack a program runs as, with its config (`<project>:<key>` → value). */
export interface RunOptions {
    stack?: string;
    project?: string;
    preview?: boolean;
    config?: Record<string, string>;
    /** Outputs of the stacks a StackReference may read, by stack name. */
    stackOutputs?: Record<string, Record<string, unknown>>;
}

/**
 * Runs `program` under mocks and returns every resource it registered, with
 * inputs as the engine would receive them. Throws what the program throws.
 */
export async function runProgram(program: () => unknown, options: RunOptions = {}): Promise<Registered[]> {
    const project = options.project ?? "serverless-platform";
    const registered = new Map<string, Registered>();
    const pendingOptions = new Map<
        string,
        { options: pulumi.ResourceOptions; parentName: string | undefined; transforms: pulumi.ResourceTransform[] }
    >();
    // A resource's transforms and its ancestors', in the order the engine applies them.
    const transformsOf = new WeakMap<pulumi.Resource, pulumi.ResourceTransform[]>();
    const stackTransforms: pulumi.ResourceTransform[] = [];

    pulumi.runtime.setAllConfig(options.config ?? {});
    await pulumi.runtime.setMocks(
        {
            async newResource(args: pulumi.runtime.MockResourceArgs) {
                const key = `${args.type}::${args.name}`;
                const seen = pendingOptions.get(key);
                let inputs = args.inputs;
                for (const transform of [...(seen?.transforms ?? []), ...stackTransforms]) {
                    const transformed = await transform({
                        type: args.type,
                        name: args.name,
                        custom: args.custom ?? true,
                        props: inputs,
                        opts: seen?.options ?? {},
                    });
                    if (transformed) inputs = transformed.props as Record<string, any>;
                }
                const { id, state } =
                    args.type === "pulumi:pulumi:StackReference"
                        ? stackReferenceState(inputs.name as string, options.stackOutputs ?? {})
                        : engineLikeState(args.type, args.name, inputs);
                registered.set(key, {
                    type: args.type,
                    name: args.name,
                    inputs: state,
                    options: seen?.options ?? {},
                    parentName: seen?.parentName,
                    provider: args.provider,
                });
                return { id, state };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return args.token === "kubernetes:helm:template" ? renderedChart(args.inputs) : args.inputs;
            },
            registerTransform(transform: pulumi.ResourceTransform) {
                stackTransforms.push(transform);
            },
        },
        project,
        options.stack ?? "dev",
        options.preview ?? false,
    );
    await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((args) => {
            const parent = args.opts.parent;
            const transforms = [...(args.opts.transforms ?? []), ...((parent && transformsOf.get(parent)) ?? [])];
            transformsOf.set(args.resource, transforms);
            pendingOptions.set(`${args.type}::${args.name}`, {
                options: args.opts,
                parentName: parentNameOf(parent),
                transforms,
            });
            return undefined;
        });
        await program();
        return undefined;
    });
    await waitForRegistrations();
    return [...registered.values()];
}

/**
 * The mocks render no chart: `helm template` answers with one CRD per chart, `<chart>s.<chart>.example`, and a
 * Deployment, so that what the program takes of a rendering (its CRDs) can be told from the rest.
 */
function renderedChart(inputs: Record<string, any>): { result: unknown[] } {
    const { chart } = JSON.parse(inputs.jsonOpts as string) as { chart: string };
    return {
        result: [
            {
                apiVersion: "apiextensions.k8s.io/v1",
                kind: "CustomResourceDefinition",
                metadata: { name: `${chart}s.${chart}.example` },
                spec: { group: `${chart}.example`, names: { kind: "Thing", plural: `${chart}s` }, scope: "Namespaced" },
            },
            { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: chart } },
        ],
    };
}

/** Resolves when every resource registration the program started has reached the mocks. */
async function waitForRegistrations(): Promise<void> {
    // The SDK tracks outstanding RPCs; this is the hook its own `disconnect` waits on.
    const runtime = pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> };
    await runtime.waitForRPCs();
}

function parentNameOf(parent: pulumi.Resource | undefined): string | undefined {
    return (parent as unknown as { __name?: string } | undefined)?.__name;
}

/** A StackReference reads another stack's outputs; an unknown stack fails as in the engine. */
function stackReferenceState(name: string, stacks: Record<string, Record<string, unknown>>) {
    const outputs = stacks[name];
    if (outputs === undefined) {
        throw new Error(`unknown stack "${name}"`);
    }
    return { id: name, state: { name, outputs, secretOutputNames: [] } };
}

function engineLikeState(
    type: string,
    name: string,
    inputs: Record<string, any>,
): { id: string; state: Record<string, any> } {
    if (!type.startsWith("kubernetes:")) {
        return { id: `${name}-id`, state: inputs };
    }
    const metadata = { ...inputs.metadata };
    metadata.name ??= `${name}-${createHash("sha256").update(`${type}/${name}`).digest("hex").slice(0, 8)}`;
    const state: Record<string, any> = { ...inputs, metadata };
    const id = metadata.namespace ? `${metadata.namespace}/${metadata.name}` : metadata.name;
    return { id, state };
}

/** The resources of one type, e.g. `ofType(resources, "kubernetes:sources.knative.dev/v1:PingSource")`. */
export function ofType(resources: readonly Registered[], type: string): Registered[] {
    return resources.filter((r) => r.type === type);
}

/** The single resource of a type and name; fails the test when it is missing. */
export function find(resources: readonly Registered[], type: string, name: string): Registered {
    const found = resources.find((r) => r.type === type && r.name === name);
    if (!found) {
        throw new Error(
            `no ${type} named ${name}; registered: ${resources.map((r) => `${r.type}::${r.name}`).join(", ")}`,
        );
    }
    return found;
}

/** How the engine's wire format marks a secret value. */
const SECRET_SIG = { key: "4dabf18193072939515e22adb298388d", value: "1b47061264138c4ac30d75fd1eb44270" };

/** The value inside a registered secret; fails the test when the value reached the engine unmarked. */
export function secretValue(registered: unknown): unknown {
    const wire = registered as Record<string, unknown> | undefined;
    if (wire?.[SECRET_SIG.key] !== SECRET_SIG.value) {
        throw new Error(`expected a secret, got ${JSON.stringify(registered)}`);
    }
    return wire.value;
}

/** Resolves an Output in a test. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

export const KSVC = "kubernetes:serving.knative.dev/v1:Service";
export const PING = "kubernetes:sources.knative.dev/v1:PingSource";
export const KAFKA = "kubernetes:sources.knative.dev/v1:KafkaSource";
export const TRIGGER = "kubernetes:eventing.knative.dev/v1:Trigger";
export const SECRET = "kubernetes:core/v1:Secret";

/** Names of the resources a registered resource explicitly depends on. */
export function dependsOnNames(resource: Registered): string[] {
    const dependsOn = resource.options.dependsOn;
    const list = dependsOn === undefined ? [] : Array.isArray(dependsOn) ? dependsOn : [dependsOn];
    return list.map((r) => parentNameOf(r as pulumi.Resource) ?? "?");
}
