import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AppNamespaces } from "./cluster.ts";
import { type SourcesArgs, type UpstreamSources, sourcesOf } from "./versions.ts";

/** Arguments of {@link WarmScheduler}. */
export interface WarmSchedulerArgs extends SourcesArgs {
    /** The app namespace whose ServerlessServices it keeps warm on schedule. */
    namespace: pulumi.Input<string>;
    /** Seconds between passes: how soon a new revision or a window boundary takes effect. @default 30 */
    intervalSeconds?: number;
}

/** What the scheduler may do: read services, read and patch revisions; nothing else. */
export const SCHEDULER_RULES: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: ["serving.knative.dev"], resources: ["services"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["serving.knative.dev"], resources: ["revisions"], verbs: ["get", "list", "watch", "patch"] },
];

let sources: Record<string, string> | undefined;

/** The scheduler's own code, mounted as files: the same code the tests run. Read once, however many namespaces. */
export function schedulerSources(): Record<string, string> {
    // Beside this module: .ts when run from source, .js from the built package (both run under Node).
    const extension = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
    return (sources ??= Object.fromEntries(
        ["scheduler", "windows"].map((file) => [
            `${file}${extension}`,
            readFileSync(new URL(`../shared/warm/${file}${extension}`, import.meta.url), "utf8"),
        ]),
    ));
}

/**
 * Keeps warm capacity on schedule in one namespace: a small Deployment that
 * sets min-scale on the revisions of every ServerlessService with
 * `scaling.schedule` (see warm/scheduler.ts), with a service account that can
 * only read Knative Services and read and patch Revisions there.
 *
 * ```ts
 * new WarmScheduler("games-web-warm", { namespace: "games-web" });
 * ```
 */
export class WarmScheduler extends pulumi.ComponentResource {
    constructor(name: string, args: WarmSchedulerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:warm:WarmScheduler", name, {}, opts);
        const { namespace } = args;
        const metadata = { name: "warm-scheduler", namespace, labels: { app: "warm-scheduler" } };
        const account = new k8s.core.v1.ServiceAccount(`${name}-account`, { metadata }, { parent: this });
        const role = new k8s.rbac.v1.Role(`${name}-role`, { metadata, rules: SCHEDULER_RULES }, { parent: this });
        new k8s.rbac.v1.RoleBinding(
            `${name}-binding`,
            {
                metadata,
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "warm-scheduler" },
                subjects: [{ kind: "ServiceAccount", name: "warm-scheduler", namespace }],
            },
            { parent: this, dependsOn: [account, role] },
        );
        const sources = schedulerSources();
        const code = new k8s.core.v1.ConfigMap(`${name}-code`, { metadata, data: sources }, { parent: this });
        const entry = Object.keys(sources).find((file) => file.startsWith("scheduler.")) ?? "scheduler.ts";
        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata,
                spec: {
                    replicas: 1,
                    strategy: { type: "Recreate" },
                    selector: { matchLabels: { app: "warm-scheduler" } },
                    template: {
                        metadata: {
                            labels: { app: "warm-scheduler" },
                            // A new hash rolls the pod, so that changed code (an in-place ConfigMap update) is loaded.
                            annotations: { "serverless-platform/code-sha256": codeHash(sources) },
                        },
                        spec: {
                            serviceAccountName: "warm-scheduler",
                            securityContext: {
                                runAsNonRoot: true,
                                runAsUser: 1000,
                                seccompProfile: { type: "RuntimeDefault" },
                            },
                            containers: [
                                {
                                    name: "scheduler",
                                    image: sourcesOf(args).schedulerImage,
                                    command: ["node", `/app/${entry}`],
                                    env: [{ name: "INTERVAL_SECONDS", value: String(args.intervalSeconds ?? 30) }],
                                    volumeMounts: [{ name: "code", mountPath: "/app", readOnly: true }],
                                    resources: {
                                        requests: { cpu: "10m", memory: "48Mi" },
                                        limits: { memory: "128Mi" },
                                    },
                                    securityContext: {
                                        allowPrivilegeEscalation: false,
                                        readOnlyRootFilesystem: true,
                                        capabilities: { drop: ["ALL"] },
                                    },
                                },
                            ],
                            volumes: [{ name: "code", configMap: { name: "warm-scheduler" } }],
                        },
                    },
                },
            },
            { parent: this, dependsOn: [code, account] },
        );
        this.registerOutputs({});
    }
}

/**
 * One {@link WarmScheduler} per app namespace, each once its namespace exists. They are grouped
 * under the namespaces' component, where they have always been in the state (their URNs stay).
 */
export function warmSchedulers(apps: AppNamespaces, sources?: Partial<UpstreamSources>): WarmScheduler[] {
    return [...apps.namespaces].map(
        ([namespace, resource]) =>
            new WarmScheduler(
                `${namespace}-warm`,
                { namespace, ...(sources !== undefined ? { sources } : {}) },
                { parent: apps, dependsOn: [resource] },
            ),
    );
}

/** A digest of the scheduler's files, for its pod template. */
function codeHash(files: Record<string, string>): string {
    const hash = createHash("sha256");
    for (const [file, text] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b)))
        hash.update(`${file}\0${text}\0`);
    return hash.digest("hex");
}
