import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { oneFieldManager, stackFieldManager } from "../shared/field-manager.ts";
import type { KnativeLimits } from "../shared/knative-limits.ts";
import type { EnvMap } from "./container.ts";
import { type RenderedService, knativeServiceObject, renderServerlessService } from "./render.ts";
import type { RuntimeArgs } from "./runtime.ts";
import type { ScalingArgs } from "./scaling.ts";
import type { TrafficTarget } from "./traffic.ts";
import type { TriggersArgs } from "./triggers.ts";

/**
 * Who can call the service. `cluster-local` is reachable only inside the
 * cluster; `public` is routed through the ingress gateway on the platform's domain.
 * @see https://knative.dev/docs/serving/services/private-services/
 */
export type Visibility = "public" | "cluster-local";

/** The arguments of {@link ServerlessService}; only `namespace` and `image` are required. */
export interface ServerlessServiceArgs extends RuntimeArgs {
    /** The app team's namespace, e.g. from the platform stack's `appNamespaces` output. */
    namespace: pulumi.Input<string>;
    /**
     * Container image pinned by digest (`repo@sha256:…`, best) or by an explicit
     * tag (`repo:1.4.2`). Untagged and `:latest` images are rejected: they move
     * under a running revision.
     */
    image: pulumi.Input<string>;
    /** Port the app listens on. @default 8080 */
    port?: number;
    /** `h2c` for gRPC or HTTP/2 cleartext. @default "http1" */
    protocol?: "http1" | "h2c";
    /**
     * Plain environment: values are strings, Outputs, or
     * `fromSecret(name, key)` / `fromConfigMap(name, key)` references.
     * @default {}
     */
    env?: EnvMap;
    /**
     * Secret environment: the values (Pulumi secrets, e.g. from `config.requireSecret`)
     * are stored in a Kubernetes Secret `<name>-env` that the component owns, and
     * read by the app as env vars. They never appear in the Knative Service.
     * @default {}
     */
    secretEnv?: Record<string, pulumi.Input<string>>;
    /** @default see {@link ScalingArgs}: scale to zero, at most 10 pods */
    scaling?: ScalingArgs;
    /**
     * The traffic split. Use the `Traffic` helpers: `Traffic.canary("api-v1", 10)`.
     * @default `Traffic.latest()`: all traffic to the newest ready revision
     * @see https://knative.dev/docs/serving/traffic-management/
     */
    traffic?: TrafficTarget[];
    /**
     * Name of the revision this update creates (`<service>-<suffix>`), so that
     * traffic can refer to it. Knative refuses a changed template under an
     * unchanged name: bump it with every change. @default Knative names it (`<service>-00001`, …)
     */
    revisionName?: string;
    /** @default "cluster-local": exposure is an explicit choice */
    visibility?: Visibility;
    /** Longest a request may take, in seconds, up to the platform's max. @default 300 */
    timeoutSeconds?: number;
    /**
     * Moves traffic to a new revision gradually over this Go duration instead of at once.
     * @default unset (at once)
     * @see https://knative.dev/docs/serving/rolling-out-latest-revision/
     */
    rolloutDuration?: string;
    /** Kubernetes service account the pods run as. @default the namespace's default */
    serviceAccountName?: string;
    /** Mount the service account token into the pod. Only for apps that call the Kubernetes API. @default false */
    mountServiceAccountToken?: boolean;
    /** Keep the root filesystem read-only (a writable `/tmp` is mounted). @default true */
    readOnlyRootFilesystem?: boolean;
    /** Numeric user to run as, for images whose USER is a name. @default the image's USER (must be non-root) */
    runAsUser?: number;
    /** Extra labels on the service and its pods. @default {} */
    labels?: Record<string, string>;
    /** Events that invoke the service: cron schedules, Kafka topics, broker filters. @default none */
    triggers?: TriggersArgs;
    /** Limits of the platform's Knative, from the platform stack's outputs. @default Knative's defaults */
    platform?: Partial<KnativeLimits>;
    /**
     * How long `pulumi up` waits for Knative to report the service Ready, so that `url`,
     * `tagUrls` and `latestReadyRevisionName` are known when it ends; a revision that does not
     * become ready fails the update. 0 does not wait (those outputs stay empty until a refresh).
     * @default 600
     * @see https://www.pulumi.com/registry/packages/kubernetes/api-docs/apiextensions/customresource/
     */
    readyTimeoutSeconds?: number;
}

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
