import type { ITrafficTarget } from "@kubernetes-models/knative/serving.knative.dev/v1/TrafficTarget";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { checkWarmWindows, warmSchedule } from "./warm.ts";
import { SCHEDULE_ANNOTATION } from "../shared/warm/windows.ts";
import { checkPort, renderEnv, restrictedSecurityContext } from "./container.ts";
import { parseGoDuration } from "../shared/duration.ts";
import { imagePin } from "../shared/image.ts";
import { checkKnownKeys } from "./known-keys.ts";
import {
    isDns1035Label,
    isDns1123Label,
    isDns1123Subdomain,
    isInt32,
    labelKeyProblem,
    labelValueProblem,
} from "../shared/names.ts";
import { Problems } from "../shared/problems.ts";
import type { PlatformLimits, ServerlessServiceArgs, Visibility } from "./args.ts";
import { renderRuntime } from "./runtime.ts";
import { KNATIVE_DEFAULT_LIMITS } from "../shared/knative-limits.ts";
import { renderScaling } from "./scaling.ts";
import { Traffic, checkRevisionName, renderTraffic } from "./traffic.ts";
import { type RenderedTriggers, renderTriggers } from "./triggers.ts";

/** Defaults of {@link ServerlessServiceArgs}, in one place. */
export const SERVERLESS_SERVICE_DEFAULTS = {
    port: 8080,
    visibility: "cluster-local" as Visibility,
    timeoutSeconds: 300,
    readOnlyRootFilesystem: true,
    readyTimeoutSeconds: 600,
    /** Size of the writable `/tmp` under a read-only root filesystem. */
    tmpSizeLimit: "256Mi",
    containerName: "app",
    limits: { ...KNATIVE_DEFAULT_LIMITS, maxRevisionTimeoutSeconds: 600 } satisfies PlatformLimits,
} as const;

/** Everything the component creates, rendered and checked. */
export interface RenderedService {
    metadata: {
        name: string;
        namespace: pulumi.Input<string>;
        labels: Record<string, string>;
        annotations?: Record<string, string>;
    };
    spec: {
        template: {
            metadata: { name?: string; labels: Record<string, string>; annotations: Record<string, string> };
            spec: {
                containers: k8s.types.input.core.v1.Container[];
                containerConcurrency: number;
                timeoutSeconds: number;
                enableServiceLinks: false;
                automountServiceAccountToken?: false;
                serviceAccountName?: string;
                volumes?: k8s.types.input.core.v1.Volume[];
            };
        };
        traffic: ITrafficTarget[];
    };
    /** Labels every child carries. */
    labels: Record<string, string>;
    /** Data of the `<name>-env` Secret, or undefined when there is no secret env. */
    secretEnv: Record<string, pulumi.Input<string>> | undefined;
    triggers: RenderedTriggers;
}

/**
 * Checks a ServerlessService's arguments and renders its Knative objects,
 * without creating anything. Throws an InvalidArgumentsError listing every
 * problem when the arguments break a rule.
 */
export function renderServerlessService(name: string, args: ServerlessServiceArgs): RenderedService {
    const { service, problems } = inspectServerlessService(name, args);
    problems.throwIfAny();
    return service;
}

/** The Knative Service object the component registers for a rendered service. */
export function knativeServiceObject(service: RenderedService) {
    return { apiVersion: "serving.knative.dev/v1", kind: "Service", metadata: service.metadata, spec: service.spec };
}

/**
 * What {@link renderServerlessService} would render, together with the problems it would
 * refuse the arguments for, without refusing: the tests hold each rule against Knative's own
 * validation with it.
 */
export function inspectServerlessService(
    name: string,
    args: ServerlessServiceArgs,
): { service: RenderedService; problems: Problems } {
    const problems = new Problems(`ServerlessService "${name}"`);
    checkKnownKeys(args, problems);
    const d = SERVERLESS_SERVICE_DEFAULTS;
    const limits: PlatformLimits = { ...d.limits, ...args.platform };

    if (!isDns1035Label(name)) {
        problems.add(
            "name",
            "must be a DNS-1035 label (lowercase letters, digits, '-', starting with a letter, at most 63 characters)",
            name,
        );
    }
    const namespace = problems.checkWhenKnown(args.namespace, (ns, late) => {
        if (!isDns1123Label(ns)) {
            late.add("namespace", "must be a Kubernetes namespace name (a DNS-1123 label)", ns);
        }
    });
    const image = problems.checkWhenKnown(args.image, (img, late) => {
        const pin = imagePin(img);
        if (pin.kind === "refused") {
            late.add("image", pin.reason, img);
        }
    });
    const port = args.port ?? d.port;
    checkPort(port, problems);
    const protocol = args.protocol ?? "http1";
    problems.oneOf("protocol", protocol, ["http1", "h2c"]);
    const visibility = args.visibility ?? d.visibility;
    problems.oneOf("visibility", visibility, ["public", "cluster-local"]);
    // 0, "" and [] mean "unset" to Knative, which then applies its defaults: so they do here.
    const timeoutSeconds = args.timeoutSeconds === 0 ? d.timeoutSeconds : (args.timeoutSeconds ?? d.timeoutSeconds);
    const revisionName = args.revisionName === "" ? undefined : args.revisionName;
    const rolloutDuration = args.rolloutDuration === "" ? undefined : args.rolloutDuration;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > limits.maxRevisionTimeoutSeconds) {
        problems.add(
            "timeoutSeconds",
            `must be a whole number from 1 to ${limits.maxRevisionTimeoutSeconds}`,
            timeoutSeconds,
        );
    }
    if (rolloutDuration !== undefined) {
        const rollout = parseGoDuration(rolloutDuration);
        if (rollout === undefined || rollout.ns < 0n || !rollout.wholeSeconds) {
            problems.add("rolloutDuration", 'must be a Go duration in whole seconds, e.g. "10m"', rolloutDuration);
        }
    }
    if (revisionName !== undefined) {
        checkRevisionName(name, "revisionName", revisionName, problems);
    }
    if (args.serviceAccountName !== undefined && !isDns1123Subdomain(args.serviceAccountName)) {
        problems.add(
            "serviceAccountName",
            "must be a service account name (a DNS-1123 subdomain of at most 253 characters)",
            args.serviceAccountName,
        );
    }
    if (args.runAsUser !== undefined && !isInt32(args.runAsUser, 1)) {
        problems.add(
            "runAsUser",
            "must be a whole number from 1 to 2147483647 (stricter than Knative: root, 0, is never allowed)",
            args.runAsUser,
        );
    }
    checkLabels(args.labels ?? {}, problems);
    const readyTimeoutSeconds = args.readyTimeoutSeconds ?? d.readyTimeoutSeconds;
    if (!isInt32(readyTimeoutSeconds)) {
        problems.add(
            "readyTimeoutSeconds",
            "must be a whole number of seconds from 0 (do not wait)",
            readyTimeoutSeconds,
        );
    }

    const runtime = renderRuntime(args, port, problems);
    const scaling = renderScaling(args.scaling ?? {}, runtime.scaleDownDelay, limits, problems);
    const windows = args.scaling?.schedule ?? [];
    checkWarmWindows(windows, scaling.minScale, scaling.maxScale, scaling.kpa, problems);
    const traffic = renderTraffic(name, args.traffic?.length ? args.traffic : Traffic.latest(), revisionName, problems);
    const secretEnv = args.secretEnv ?? {};
    const secretName = `${name}-env`;
    const env = renderEnv(args.env ?? {}, secretEnv, secretName, problems);
    const triggers = renderTriggers(name, args.triggers ?? {}, problems);

    if (runtime.javaToolOptions !== undefined && !(args.env && "JAVA_TOOL_OPTIONS" in args.env)) {
        env.unshift({ name: "JAVA_TOOL_OPTIONS", value: runtime.javaToolOptions });
    }
    const readOnlyRootFilesystem = args.readOnlyRootFilesystem ?? d.readOnlyRootFilesystem;
    const labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "pulumi", ...args.labels };

    const container: k8s.types.input.core.v1.Container = {
        name: d.containerName,
        image,
        ports: [{ containerPort: port, ...(protocol === "h2c" ? { name: "h2c" } : {}) }],
        // Knative's webhook drops an empty list: sending one would be a difference at every preview.
        ...(env.length > 0 ? { env } : {}),
        resources: runtime.resources,
        securityContext: restrictedSecurityContext(readOnlyRootFilesystem, args.runAsUser),
        ...(runtime.startupProbe ? { startupProbe: runtime.startupProbe } : {}),
        ...(runtime.readinessProbe ? { readinessProbe: runtime.readinessProbe } : {}),
        ...(readOnlyRootFilesystem ? { volumeMounts: [{ name: "tmp", mountPath: "/tmp" }] } : {}),
    };

    const service: RenderedService = {
        metadata: {
            name,
            namespace,
            labels:
                visibility === "cluster-local"
                    ? { ...labels, "networking.knative.dev/visibility": "cluster-local" }
                    : labels,
            annotations: {
                // The Service is this stack's alone, and each run owns all of it again: a field another manager
                // holds (the random name the provider applied it under before ServerlessService named its field
                // manager, or a hand edit) would otherwise fail the apply wherever Knative's defaulting completes an
                // atomic list such as `containers`.
                "pulumi.com/patchForce": "true",
                // The provider waits for Knative's Ready condition (of this generation) before it reads the status.
                ...(readyTimeoutSeconds > 0
                    ? {
                          "pulumi.com/waitFor": "condition=Ready",
                          "pulumi.com/timeoutSeconds": String(readyTimeoutSeconds),
                      }
                    : {}),
                ...(rolloutDuration !== undefined ? { "serving.knative.dev/rollout-duration": rolloutDuration } : {}),
                ...(windows.length > 0
                    ? {
                          [SCHEDULE_ANNOTATION]: JSON.stringify(
                              warmSchedule(windows, scaling.minScale, args.scaling?.warmUpOnSchedule ?? true),
                          ),
                      }
                    : {}),
            },
        },
        spec: {
            template: {
                metadata: {
                    ...(revisionName !== undefined ? { name: revisionName } : {}),
                    labels,
                    annotations: {
                        ...scaling.annotations,
                        ...(runtime.progressDeadline !== undefined
                            ? { "serving.knative.dev/progress-deadline": runtime.progressDeadline }
                            : {}),
                    },
                },
                spec: {
                    containers: [container],
                    containerConcurrency: scaling.containerConcurrency,
                    timeoutSeconds,
                    enableServiceLinks: false,
                    ...(args.mountServiceAccountToken === true ? {} : { automountServiceAccountToken: false }),
                    ...(args.serviceAccountName !== undefined ? { serviceAccountName: args.serviceAccountName } : {}),
                    ...(readOnlyRootFilesystem
                        ? { volumes: [{ name: "tmp", emptyDir: { sizeLimit: d.tmpSizeLimit } }] }
                        : {}),
                },
            },
            traffic,
        },
        labels,
        secretEnv: Object.keys(secretEnv).length > 0 ? secretEnv : undefined,
        triggers,
    };
    return { service, problems };
}

/** Labels Kubernetes accepts, and none of Knative's own keys (those are set through arguments). */
function checkLabels(labels: Record<string, string>, problems: Problems): void {
    for (const [key, value] of Object.entries(labels)) {
        const keyProblem = labelKeyProblem(key);
        if (keyProblem !== undefined) {
            problems.add(
                `labels[${JSON.stringify(key)}]`,
                `is not a label key Kubernetes accepts: it ${keyProblem}`,
                key,
            );
        } else if (/^(serving|autoscaling|networking)\.knative\.dev\//.test(key)) {
            problems.add("labels", "must not use Knative's own label keys; use the matching argument", key);
        }
        const valueProblem = typeof value === "string" ? labelValueProblem(value) : "must be a string";
        if (valueProblem !== undefined) {
            problems.add(
                `labels[${JSON.stringify(key)}]`,
                `is not a label value Kubernetes accepts: it ${valueProblem}`,
                value,
            );
        }
    }
}
