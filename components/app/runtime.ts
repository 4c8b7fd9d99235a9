import type * as k8s from "@pulumi/kubernetes";
import { parseGoDuration } from "../shared/duration.ts";
import { MAX_INT32, isInt32 } from "../shared/names.ts";
import type { Problems } from "../shared/problems.ts";
import { parseQuantity } from "../shared/quantity.ts";

/**
 * Startup presets that encode what cold start costs per kind of app:
 * - `jvm` (Spring Boot and friends): a slow, CPU-hungry start. More CPU at
 *   start (request 1, limit 2 cores), a startup probe that waits up to 3
 *   minutes, container-aware heap flags, and a 5-minute scale-down delay so
 *   that a burst does not pay for a second cold start.
 * - `native` (GraalVM native images, Go, Rust): starts in well under a second
 *   on little memory. Small requests and a startup probe that gives up after
 *   10 seconds, so that a broken revision fails fast.
 * - `generic` (Node, Python, anything else): modest requests, Knative's own
 *   readiness probing, no startup probe.
 */
export type Runtime = "jvm" | "native" | "generic";

export const RUNTIMES: readonly Runtime[] = ["jvm", "native", "generic"];

/** CPU and memory of the app container. */
export interface ResourcesArgs {
    /** CPU request. @default preset: jvm "1", native "250m", generic "250m" */
    cpu?: string;
    /** CPU limit; headroom above the request speeds up a JVM start. @default preset: jvm "2", native "1", generic "1" */
    cpuLimit?: string;
    /**
     * Memory request and limit (equal, so a pod is never killed for using what
     * it asked for). @default preset: jvm "1Gi", native "256Mi", generic "256Mi"
     */
    memory?: string;
}

/** The startup probe: how long a new pod may take before it is restarted. */
export interface StartupProbeArgs {
    /** Seconds between checks. @default preset: jvm 2, native 1 */
    periodSeconds?: number;
    /** Checks that may fail before the pod is restarted. @default preset: jvm 90, native 10 */
    failureThreshold?: number;
    /** Seconds one check may take. @default preset: jvm 2, native 1 */
    timeoutSeconds?: number;
}

interface Preset {
    resources: Required<ResourcesArgs>;
    startupProbe: Required<StartupProbeArgs> | undefined;
    progressDeadline: string | undefined;
    scaleDownDelay: string | undefined;
    javaToolOptions: string | undefined;
}

/** The presets, in one table. Every value can be overridden per service. */
export const RUNTIME_PRESETS: Readonly<Record<Runtime, Readonly<Preset>>> = {
    jvm: {
        resources: { cpu: "1", cpuLimit: "2", memory: "1Gi" },
        startupProbe: { periodSeconds: 2, failureThreshold: 90, timeoutSeconds: 2 },
        progressDeadline: "10m",
        scaleDownDelay: "5m",
        javaToolOptions: "-XX:MaxRAMPercentage=75.0 -XX:InitialRAMPercentage=50.0 -XX:+ExitOnOutOfMemoryError",
    },
    native: {
        resources: { cpu: "250m", cpuLimit: "1", memory: "256Mi" },
        startupProbe: { periodSeconds: 1, failureThreshold: 10, timeoutSeconds: 1 },
        progressDeadline: "3m",
        scaleDownDelay: undefined,
        javaToolOptions: undefined,
    },
    generic: {
        resources: { cpu: "250m", cpuLimit: "1", memory: "256Mi" },
        startupProbe: undefined,
        progressDeadline: undefined,
        scaleDownDelay: undefined,
        javaToolOptions: undefined,
    },
};

/** What a service says about its runtime; every field overrides the preset. */
export interface RuntimeArgs {
    /** The cold-start preset; every field below overrides it. @default "generic" */
    runtime?: Runtime;
    /** CPU and memory of the app container. @default the preset's */
    resources?: ResourcesArgs;
    /** Overrides the preset's startup probe; `false` removes it. */
    startupProbe?: StartupProbeArgs | false;
    /** Replaces the `jvm` preset's `JAVA_TOOL_OPTIONS`. Only for `runtime: "jvm"`. */
    jvmOptions?: string;
    /** Knative's progress deadline: how long a new revision may take to become ready. Go duration. */
    progressDeadline?: string;
    /** HTTP path answering 200 when the app is ready; probes use TCP when unset. */
    healthPath?: string;
}

/** The container and template parts a runtime decides. */
export interface RenderedRuntime {
    resources: k8s.types.input.core.v1.ResourceRequirements;
    startupProbe: k8s.types.input.core.v1.Probe | undefined;
    readinessProbe: k8s.types.input.core.v1.Probe | undefined;
    javaToolOptions: string | undefined;
    progressDeadline: string | undefined;
    scaleDownDelay: string | undefined;
}

/** Merges a runtime preset with the service's overrides, checking each value. */
export function renderRuntime(args: RuntimeArgs, port: number, problems: Problems): RenderedRuntime {
    const requested = args.runtime ?? "generic";
    const runtime = problems.oneOf("runtime", requested, RUNTIMES) ? requested : "generic";
    const preset = RUNTIME_PRESETS[runtime];
    const resources = { ...preset.resources, ...args.resources };

    const cpu = checkQuantity(problems, "resources.cpu", resources.cpu);
    const cpuLimit = checkQuantity(problems, "resources.cpuLimit", resources.cpuLimit);
    checkQuantity(problems, "resources.memory", resources.memory);
    if (cpu !== undefined && cpuLimit !== undefined && cpuLimit < cpu) {
        problems.add("resources.cpuLimit", `must be ≥ resources.cpu (${resources.cpu})`, resources.cpuLimit);
    }

    if (args.jvmOptions !== undefined && runtime !== "jvm") {
        problems.add("jvmOptions", `applies only to runtime "jvm", not "${runtime}"`, args.jvmOptions);
    }
    // "" means unset, as Knative reads it.
    const healthPath = args.healthPath === "" ? undefined : args.healthPath;
    if (healthPath !== undefined && !/^\S+$/.test(healthPath)) {
        problems.add(
            "healthPath",
            'must be an HTTP path without spaces, such as "/actuator/health/readiness"',
            healthPath,
        );
    }
    const requestedDeadline = args.progressDeadline === "" ? undefined : args.progressDeadline;
    const progressDeadline = requestedDeadline ?? preset.progressDeadline;
    if (requestedDeadline !== undefined) {
        const deadline = parseGoDuration(requestedDeadline);
        if (deadline === undefined || deadline.ns <= 0n || !deadline.wholeSeconds) {
            problems.add(
                "progressDeadline",
                'must be a positive Go duration in whole seconds, e.g. "10m" (Knative passes 0s on to its ' +
                    "Deployment, which Kubernetes refuses)",
                requestedDeadline,
            );
        }
    }

    const probeSettings =
        args.startupProbe === false || (preset.startupProbe === undefined && args.startupProbe === undefined)
            ? undefined
            : { ...(preset.startupProbe ?? RUNTIME_PRESETS.native.startupProbe), ...args.startupProbe };
    for (const [field, value] of Object.entries(probeSettings ?? {})) {
        if (!isInt32(value, 1)) {
            problems.add(
                `startupProbe.${field}`,
                `must be a whole number from 1 to ${MAX_INT32} (Knative passes probes on to its Deployment, where ` +
                    "Kubernetes refuses negatives and reads 0 as its own default)",
                value,
            );
        }
    }

    // The kubelet runs the startup probe straight against the app's port.
    const handler = healthPath !== undefined ? { httpGet: { path: healthPath, port } } : { tcpSocket: { port } };
    return {
        resources: {
            requests: { cpu: resources.cpu, memory: resources.memory },
            limits: { cpu: resources.cpuLimit, memory: resources.memory },
        },
        startupProbe: probeSettings && { ...handler, ...probeSettings },
        // Without a path, Knative's default TCP readiness probe (checked aggressively by the queue-proxy) is the fastest.
        readinessProbe: healthPath !== undefined ? { ...handler, successThreshold: 1 } : undefined,
        javaToolOptions: runtime === "jvm" ? (args.jvmOptions ?? preset.javaToolOptions) : undefined,
        progressDeadline,
        scaleDownDelay: preset.scaleDownDelay,
    };
}

function checkQuantity(problems: Problems, field: string, value: string): number | undefined {
    const parsed = parseQuantity(value);
    if (parsed === undefined || parsed <= 0) {
        problems.add(field, 'must be a positive Kubernetes quantity such as "500m", "2" or "512Mi"', value);
        return undefined;
    }
    return parsed;
}
