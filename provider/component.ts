/**
 * The component package's `ServerlessService` and its arguments, whose TypeScript types are the package's
 * schema. A schema has no unions of literals or of shapes, so the arguments differ from the TypeScript
 * component's where those have them: string choices are strings (checked by the component as in
 * TypeScript), `env` takes plain values and `envFrom` the Secret and ConfigMap references,
 * `startupProbe: false` is `disableStartupProbe: true`, and a dead-letter sink is a URI (`deadLetterSink`)
 * or a Knative Service (`deadLetterService`).
 */
import * as pulumi from "@pulumi/pulumi";
import type { ServerlessServiceArgs as TypedArgs } from "../components/app/args.ts";
import { ServerlessService as TypedServerlessService } from "../components/app/serverless-service.ts";
import type { ResourcesArgs, StartupProbeArgs } from "../components/app/runtime.ts";
import type { CronTriggerArgs } from "../components/app/triggers.ts";
import { renderServerlessService } from "../components/app/render.ts";
import { Problems } from "../components/shared/problems.ts";

/** A key of a Secret or ConfigMap in the service's namespace. */
export interface KeySelector {
    name: string;
    key: string;
}

/** Where one environment variable's value is read from: a Secret's key or a ConfigMap's key (one of them). */
export interface EnvReference {
    secretKeyRef?: KeySelector;
    configMapKeyRef?: KeySelector;
}

/** A window of warm capacity on a clock (see the TypeScript `Warm.between`). */
export interface WarmWindow {
    /** Local wall-clock time the window opens, "HH:MM". */
    from: string;
    /** Local wall-clock time it closes, "HH:MM" (before `from`: it runs past midnight). */
    until: string;
    /** IANA time zone of `from` and `until`, e.g. "Asia/Seoul". */
    timezone: string;
    /** Pods kept inside the window. */
    minScale: number;
    /** Days the window starts on ("mon" … "sun"). Default: every day. */
    days?: string[];
}

/** How the service scales; every field as in the TypeScript `ScalingArgs`. */
export interface Scaling {
    /** Pods kept when idle; 0 scales to zero. Default: 0. */
    minScale?: number;
    /** Most pods. Default: 10. */
    maxScale?: number;
    /** Pods a new revision starts with. Default: 1. */
    initialScale?: number;
    /** Per-pod target of the metric. */
    target?: number;
    /** "concurrency", "rps", "cpu" or "memory". Default: "concurrency". */
    metric?: string;
    /** Hard limit of requests per pod at once; 0 is unlimited. Default: 0. */
    containerConcurrency?: number;
    /** How long to keep pods after load drops, as a Go duration. */
    scaleDownDelay?: string;
    /** The stable window the autoscaler averages over, as a Go duration. */
    window?: string;
    /** Percent of `target` the autoscaler aims at. */
    targetUtilizationPercentage?: number;
    /** Pods to start when scaling up from zero (at least 2). */
    activationScale?: number;
    /** Windows of warm capacity on a clock. Default: none. */
    schedule?: WarmWindow[];
    /** Send one request through the service when a window opens from zero. Default: true. */
    warmUpOnSchedule?: boolean;
}

/** One entry of the traffic split: a named revision, or the latest ready one. */
export interface TrafficTarget {
    revisionName?: string;
    /** True for the newest ready revision (leave `revisionName` unset). */
    latestRevision?: boolean;
    percent: number;
    /** Gives the entry its own URL, `http://<tag>-<service>.<namespace>.<domain>`. */
    tag?: string;
}

/** Where events go when they cannot be delivered, and how hard to try first. */
export interface Delivery {
    retry?: number;
    /** "linear" or "exponential". */
    backoffPolicy?: string;
    /** First backoff delay, as a Go duration. */
    backoffDelay?: string;
    /** A URI to send undeliverable events to. */
    deadLetterSink?: string;
    /** A Knative Service in the same namespace to send undeliverable events to. */
    deadLetterService?: string;
}

/** Runs the service for each record of Kafka topics (a KafkaSource). */
export interface KafkaTrigger {
    bootstrapServers: pulumi.Input<string>[];
    topics: string[];
    /** Kafka consumer group; changing it replaces the source. Default: the source's name. */
    consumerGroup?: string;
    /** Where a new consumer group starts reading: "earliest" or "latest". Default: "latest". */
    initialOffset?: string;
    /** "ordered" (one record per partition at a time) or "unordered". Default: "ordered". */
    ordering?: string;
    /** Consumers in the group. Default: 1. */
    consumers?: number;
    delivery?: Delivery;
    /** Suffix of the KafkaSource's name (`<service>-kafka-<name>`). Default: the trigger's index. */
    name?: string;
}

/** Runs the service for each event of a broker that matches `filter` (a Trigger). */
export interface BrokerTrigger {
    /** The broker's name in the service's namespace; changing it replaces the trigger. Default: "default". */
    broker?: pulumi.Input<string>;
    /** CloudEvents attributes that must match exactly, e.g. `{ type: "order.created" }`. Default: all events. */
    filter?: Record<string, string>;
    delivery?: Delivery;
    /** Suffix of the Trigger's name (`<service>-broker-<name>`). Default: the trigger's index. */
    name?: string;
}

/** Events that invoke the service. */
export interface Triggers {
    cron?: CronTriggerArgs[];
    kafka?: KafkaTrigger[];
    broker?: BrokerTrigger[];
}

/** Limits of the platform's Knative (the platform stack's outputs). */
export interface PlatformLimits {
    maxScaleLimit?: number;
    allowZeroInitialScale?: boolean;
    containerConcurrencyMaxLimit?: number;
    maxRevisionTimeoutSeconds?: number;
}

/** The arguments of {@link ServerlessService}; only `namespace` and `image` are required. */
export interface ServerlessServiceArgs {
    /** The app team's namespace, e.g. from the platform stack's `appNamespaces` output. */
    namespace: pulumi.Input<string>;
    /** Container image pinned by digest (`repo@sha256:…`) or an explicit tag (`repo:1.4.2`); never `:latest`. */
    image: pulumi.Input<string>;
    /** Port the app listens on. Default: 8080. */
    port?: number;
    /** "http1", or "h2c" for gRPC or HTTP/2 cleartext. Default: "http1". */
    protocol?: string;
    /** Plain environment variables. Default: {}. */
    env?: Record<string, pulumi.Input<string>>;
    /** Environment variables read from a Secret's or ConfigMap's key. Default: {}. */
    envFrom?: Record<string, EnvReference>;
    /** Secret environment variables, kept in a Secret `<name>-env` the component owns. Default: {}. */
    secretEnv?: Record<string, pulumi.Input<string>>;
    /** How the service scales. Default: scale to zero, at most 10 pods. */
    scaling?: Scaling;
    /** The traffic split. Default: all traffic to the newest ready revision. */
    traffic?: TrafficTarget[];
    /** Name of the revision this update creates (`<service>-<suffix>`). Default: Knative names it. */
    revisionName?: string;
    /** "cluster-local" or "public". Default: "cluster-local". */
    visibility?: string;
    /** Longest a request may take, in seconds, up to the platform's max. Default: 300. */
    timeoutSeconds?: number;
    /** Moves traffic to a new revision gradually over this Go duration. Default: at once. */
    rolloutDuration?: string;
    /** Kubernetes service account the pods run as. Default: the namespace's default. */
    serviceAccountName?: string;
    /** Mount the service account token into the pod. Default: false. */
    mountServiceAccountToken?: boolean;
    /** Keep the root filesystem read-only (a writable `/tmp` is mounted). Default: true. */
    readOnlyRootFilesystem?: boolean;
    /** Numeric user to run as, for images whose USER is a name. Default: the image's USER. */
    runAsUser?: number;
    /** Extra labels on the service and its pods. Default: {}. */
    labels?: Record<string, string>;
    /** Cron schedules, Kafka topics and broker filters that invoke the service. Default: none. */
    triggers?: Triggers;
    /** Limits of the platform's Knative. Default: Knative's defaults. */
    platform?: PlatformLimits;
    /** Cold-start preset: "jvm", "native" or "generic". Default: "generic". */
    runtime?: string;
    /** CPU and memory; override the runtime preset's. */
    resources?: ResourcesArgs;
    /** Overrides the preset's startup probe. */
    startupProbe?: StartupProbeArgs;
    /** Removes the preset's startup probe. Default: false. */
    disableStartupProbe?: boolean;
    /** Replaces the `jvm` preset's `JAVA_TOOL_OPTIONS`. */
    jvmOptions?: string;
    /** How long a new revision may take to become ready, as a Go duration. */
    progressDeadline?: string;
    /** HTTP path answering 200 when the app is ready; probes use TCP when unset. */
    healthPath?: string;
    /** How long `pulumi up` waits for Knative to report the service Ready; 0 does not wait. Default: 600. */
    readyTimeoutSeconds?: number;
}

/**
 * An app run serverless on the platform's Knative: the TypeScript `ServerlessService`, for
 * app stacks in any Pulumi language. Its child is that component, with everything it makes.
 */
export class ServerlessService extends pulumi.ComponentResource {
    /** The service's URL. */
    public readonly url: pulumi.Output<string>;
    /** The Knative Service's name. */
    public readonly serviceName: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    /** The newest revision that became ready. */
    public readonly latestReadyRevisionName: pulumi.Output<string>;
    /** URL of each traffic tag. */
    public readonly tagUrls: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ServerlessServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        // Refused before anything is registered, as the TypeScript component refuses.
        const typed = typedArgs(name, args);
        super("serverless-platform:index:ServerlessService", name, {}, opts);
        const service = new TypedServerlessService(name, typed, { parent: this });
        this.url = service.url;
        this.serviceName = service.serviceName;
        this.namespace = service.namespace;
        this.latestReadyRevisionName = service.latestReadyRevisionName;
        this.tagUrls = service.tagUrls;
        this.registerOutputs({
            url: this.url,
            serviceName: this.serviceName,
            namespace: this.namespace,
            latestReadyRevisionName: this.latestReadyRevisionName,
            tagUrls: this.tagUrls,
        });
    }
}

/**
 * The TypeScript component's arguments. The few shapes a schema cannot say are put back; string
 * choices pass as they are, for the component to check and name as it does in TypeScript.
 */
function typedArgs(name: string, args: ServerlessServiceArgs): TypedArgs {
    const problems = new Problems(`ServerlessService "${name}"`);
    const { envFrom = {}, disableStartupProbe, triggers, ...rest } = args;
    for (const variable of Object.keys(envFrom)) {
        if (args.env !== undefined && variable in args.env) {
            problems.add(
                `envFrom.${variable}`,
                "is also set in env: set each variable in one of them",
                envFrom[variable],
            );
        }
    }
    if (disableStartupProbe === true && args.startupProbe !== undefined) {
        problems.add("disableStartupProbe", "cannot be true while startupProbe is set", disableStartupProbe);
    }
    const delivery = (at: string, given: Delivery | undefined) => {
        if (given === undefined) return undefined;
        const { deadLetterSink, deadLetterService, ...settings } = given;
        if (deadLetterSink !== undefined && deadLetterService !== undefined) {
            problems.add(`${at}.deadLetterService`, "cannot be set together with deadLetterSink", deadLetterService);
        }
        return {
            ...settings,
            deadLetterSink: deadLetterService !== undefined ? { service: deadLetterService } : deadLetterSink,
        };
    };
    const typedTriggers = triggers && {
        ...triggers,
        kafka: triggers.kafka?.map((t, i) => ({
            ...t,
            delivery: delivery(`triggers.kafka[${i}].delivery`, t.delivery),
        })),
        broker: triggers.broker?.map((t, i) => ({
            ...t,
            delivery: delivery(`triggers.broker[${i}].delivery`, t.delivery),
        })),
    };
    problems.throwIfAny();
    const typed = {
        ...rest,
        env: { ...args.env, ...envFrom },
        ...(disableStartupProbe === true ? { startupProbe: false } : {}),
        ...(typedTriggers === undefined ? {} : { triggers: typedTriggers }),
    } as TypedArgs;
    // The TypeScript component's own checks, before this component registers.
    renderServerlessService(name, typed);
    return typed;
}
