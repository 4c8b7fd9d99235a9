import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { oneFieldManager, stackFieldManager } from "../shared/field-manager.ts";
import type { ServerlessServiceArgs } from "./args.ts";
import { type RenderedService, knativeServiceObject, renderServerlessService } from "./render.ts";

/**
 * An app run serverless on the platform's Knative: a Knative Service that
 * scales to zero and back, splits traffic between revisions, and is invoked by
 * HTTP, cron schedules, Kafka topics or broker events, with a restricted pod
 * security profile and a cold-start preset for its runtime. With
 * `scaling.schedule`, it keeps warm pods on a clock (the platform's scheduler
 * in the namespace applies the windows to the live revisions).
 *
 * Every argument is checked before anything is registered; a bad value fails
 * the program with a message naming the argument, the value and the rule.
 *
 * ```ts
 * const stats = new ServerlessService("hourly-stats", {
 *     namespace: "games-web",
 *     image: "registry.example.com/stats:1.4.2",
 *     runtime: "jvm",
 *     scaling: { minScale: 0, maxScale: 3 },
 *     triggers: { cron: [{ schedule: "0 * * * *", timezone: "Asia/Seoul" }] },
 * });
 * export const url = stats.url;
 * ```
 *
 * Children: the Knative Service `<name>`, a Secret `<name>-env` when
 * `secretEnv` is set, and one PingSource, KafkaSource or Trigger per trigger,
 * named `<name>-cron-<n>`, `<name>-kafka-<n>`, `<name>-broker-<n>`.
 * @see https://knative.dev/docs/serving/
 */
export class ServerlessService extends pulumi.ComponentResource {
    /** The service's URL: `http://<name>.<namespace>.<domain>`, or `.svc.cluster.local` when cluster-local. */
    public readonly url: pulumi.Output<string>;
    /** The Knative Service's name (the component's name). */
    public readonly serviceName: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    /** The newest revision that became ready; unknown until the engine reads the status. */
    public readonly latestReadyRevisionName: pulumi.Output<string>;
    /** URL of each traffic tag (`canary` → `http://canary-<name>.<namespace>.<domain>`). */
    public readonly tagUrls: pulumi.Output<Record<string, string>>;
    /** The Knative Service resource, for `dependsOn` or further wiring. */
    public readonly knativeService: KnativeService;

    constructor(name: string, args: ServerlessServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        // Checked before super(): a bad argument must not leave a half-registered component behind.
        const rendered = renderServerlessService(name, args);
        // Its objects are applied under the app stack's own field manager, as the platform's are: a run that takes
        // over what a killed run stored then applies as the same owner (see oneFieldManager). The team's own
        // transforms run first, so a field manager they choose stays.
        const transforms = [...(opts?.transforms ?? []), oneFieldManager(stackFieldManager())];
        super("serverless-platform:app:ServerlessService", name, {}, { ...opts, transforms });

        const secret = rendered.secretEnv && createSecret(this, name, rendered);
        this.knativeService = new KnativeService(name, knativeServiceObject(rendered), {
            parent: this,
            dependsOn: secret ? [secret] : [],
        });
        const dependsOn = [this.knativeService];
        createTriggers(this, rendered, dependsOn);

        const status = this.knativeService.status;
        this.url = status.apply((s) => s?.url ?? "");
        this.latestReadyRevisionName = status.apply((s) => s?.latestReadyRevisionName ?? "");
        this.tagUrls = status.apply((s) =>
            Object.fromEntries((s?.traffic ?? []).flatMap((t) => (t.tag && t.url ? [[t.tag, t.url]] : []))),
        );
        this.serviceName = pulumi.output(rendered.metadata.name);
        this.namespace = pulumi.output(rendered.metadata.namespace);
        this.registerOutputs({
            url: this.url,
            serviceName: this.serviceName,
            namespace: this.namespace,
            latestReadyRevisionName: this.latestReadyRevisionName,
            tagUrls: this.tagUrls,
        });
    }
}

/** The part of a Knative Service's status the outputs read. */
export interface KnativeServiceStatus {
    url?: string;
    latestReadyRevisionName?: string;
    traffic?: { tag?: string; url?: string }[];
}

/**
 * A Knative Service whose `status` is an output. A CustomResource exposes
 * only the fields it was given, so `status` is passed as an empty input for
 * the engine to fill.
 */
export class KnativeService extends k8s.apiextensions.CustomResource {
    declare readonly status: pulumi.Output<KnativeServiceStatus | undefined>;

    constructor(name: string, args: k8s.apiextensions.CustomResourceArgs, opts?: pulumi.CustomResourceOptions) {
        super(name, { ...args, status: undefined }, opts);
    }
}

function createSecret(parent: ServerlessService, name: string, rendered: RenderedService): k8s.core.v1.Secret {
    return new k8s.core.v1.Secret(
        `${name}-env`,
        {
            metadata: { name: `${name}-env`, namespace: rendered.metadata.namespace, labels: rendered.labels },
            type: "Opaque",
            stringData: pulumi.secret(rendered.secretEnv ?? {}),
        },
        { parent },
    );
}

/**
 * Creates the event sources and triggers. Knative forbids changing a Trigger's
 * broker or a KafkaSource's consumer group in place, so those changes replace
 * the object (delete first: the names are fixed).
 */
function createTriggers(parent: ServerlessService, rendered: RenderedService, dependsOn: pulumi.Resource[]): void {
    const namespace = rendered.metadata.namespace;
    const labels = rendered.labels;
    const kinds = [
        { list: rendered.triggers.cron, apiVersion: "sources.knative.dev/v1", kind: "PingSource", immutable: [] },
        {
            list: rendered.triggers.kafka,
            apiVersion: "sources.knative.dev/v1",
            kind: "KafkaSource",
            immutable: ["spec.consumerGroup"],
        },
        {
            list: rendered.triggers.broker,
            apiVersion: "eventing.knative.dev/v1",
            kind: "Trigger",
            immutable: ["spec.broker"],
        },
    ];
    for (const { list, apiVersion, kind, immutable } of kinds) {
        for (const trigger of list) {
            new k8s.apiextensions.CustomResource(
                trigger.name,
                { apiVersion, kind, metadata: { name: trigger.name, namespace, labels }, spec: trigger.spec },
                {
                    parent,
                    dependsOn,
                    ...(immutable.length > 0 ? { replaceOnChanges: immutable, deleteBeforeReplace: true } : {}),
                },
            );
        }
    }
}
