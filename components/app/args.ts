/**
 * ServerlessService's arguments, types only: the component (serverless-service.ts), its renderer (render.ts) and
 * the unknown-key check (known-keys.ts) all read them from here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { KnativeLimits } from "../shared/knative-limits.ts";
import type { EnvMap } from "./container.ts";
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
    /** Port the app listens on; Knative's reserved ports (8008, 8012, 8013, 8022, 9090, 9091) are refused. @default 8080 */
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
    /** How the service scales. @default scale to zero, at most 10 pods */
    scaling?: ScalingArgs;
    /**
     * The traffic split. Use the `Traffic` helpers: `Traffic.canary("api-v1", 10)`.
     * @default `Traffic.latest()`: all traffic to the newest ready revision
     * @see https://knative.dev/docs/serving/traffic-management/
     */
    traffic?: TrafficTarget[];
    /**
     * Name of the revision this update creates (`<service>-<suffix>`), so that
     * traffic can refer to it; it must start with `<name>-`. Knative refuses a changed
     * template under an unchanged name: bump it with every change. @default Knative names it (`<service>-00001`, …)
     */
    revisionName?: string;
    /** `public` exposes the service through the ingress gateway. @default "cluster-local": exposure is an explicit choice */
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
    /** Limits of the platform's Knative, from the platform stack's outputs (`PlatformReference.knativeLimits`). @default Knative's defaults */
    platform?: Partial<PlatformLimits>;
    /**
     * How long `pulumi up` waits for Knative to report the service Ready, so that `url`,
     * `tagUrls` and `latestReadyRevisionName` are known when it ends; a revision that does not
     * become ready fails the update. 0 does not wait (those outputs stay empty until a refresh).
     * @default 600
     * @see https://www.pulumi.com/registry/packages/kubernetes/api-docs/apiextensions/customresource/
     */
    readyTimeoutSeconds?: number;
}

/** Limits the component checks that Knative's defaults do not cover. */
export interface PlatformLimits extends KnativeLimits {
    /** `config-defaults` `max-revision-timeout-seconds`. */
    maxRevisionTimeoutSeconds: number;
}
