import type { WarmWindow } from "../shared/warm/windows.ts";
import { parseGoDuration } from "../shared/duration.ts";
import { MAX_INT32, isInt32 } from "../shared/names.ts";
import type { Problems } from "../shared/problems.ts";
import type { KnativeLimits } from "../shared/knative-limits.ts";

/**
 * What drives autoscaling. `concurrency` and `rps` use Knative's own
 * autoscaler (KPA), which can scale to zero; `cpu` and `memory` use the
 * Kubernetes HPA, which keeps at least one pod.
 * @see https://knative.dev/docs/serving/autoscaling/autoscaling-metrics/
 */
export type ScalingMetric = "concurrency" | "rps" | "cpu" | "memory";

const KPA_METRICS: readonly ScalingMetric[] = ["concurrency", "rps"];
const ALL_METRICS: readonly ScalingMetric[] = ["concurrency", "rps", "cpu", "memory"];

/** How a service scales. Every field is optional; unset fields take the defaults noted. */
export interface ScalingArgs {
    /**
     * Fewest pods kept running. 0 lets the service scale to zero when idle; 1+
     * keeps warm pods (no cold start, but they cost all night).
     * @default 0 for `concurrency`/`rps`, 1 for `cpu`/`memory` (the HPA cannot scale to zero)
     * @see https://knative.dev/docs/serving/autoscaling/scale-bounds/#lower-bound
     */
    minScale?: number;
    /**
     * Most pods. Always bounded: a runaway service must not take the shared nodes.
     * @default 10
     * @see https://knative.dev/docs/serving/autoscaling/scale-bounds/#upper-bound
     */
    maxScale?: number;
    /**
     * Pods started when a revision is created, before any traffic. 0 (deploy
     * without starting a pod) needs the platform to allow it (`allowZeroInitialScale`).
     * @default 1
     * @see https://knative.dev/docs/serving/autoscaling/scale-bounds/#initial-scale
     */
    initialScale?: number;
    /**
     * Per-pod target of the metric: concurrent requests, requests per second,
     * CPU percent of the request, or memory in Mi.
     * @default unset: the platform's default (Knative: 100 concurrent requests, 200 rps)
     * @see https://knative.dev/docs/serving/autoscaling/autoscaling-targets/
     */
    target?: number;
    /** @default "concurrency" */
    metric?: ScalingMetric;
    /**
     * Hard limit of requests in flight per pod (0 = no limit, only the soft `target`).
     * Use 1 for code that cannot serve two requests at once.
     * @default 0
     * @see https://knative.dev/docs/serving/autoscaling/concurrency/#hard-limit
     */
    containerConcurrency?: number;
    /**
     * How long to wait after load drops before removing pods: fewer cold starts
     * for bursty traffic, at the cost of idle pods. Go duration, 0s to 1h.
     * @default the runtime preset's value (`jvm`: "5m"), otherwise unset (no delay)
     * @see https://knative.dev/docs/serving/autoscaling/scale-to-zero/#scale-down-delay
     */
    scaleDownDelay?: string;
    /**
     * Stable window the autoscaler averages over (KPA only). Go duration, 6s to 1h.
     * @default unset: the platform's default ("60s")
     * @see https://knative.dev/docs/serving/autoscaling/kpa-specific/#stable-window
     */
    window?: string;
    /**
     * Percent of `target` at which new pods are added early (KPA only), 1 to 100.
     * @default unset: the platform's default (70)
     * @see https://knative.dev/docs/serving/autoscaling/autoscaling-targets/#target-utilization
     */
    targetUtilizationPercentage?: number;
    /**
     * Pods to start when scaling up from zero (at least 2) — a burst-ready cold start.
     * @default unset (1)
     * @see https://knative.dev/docs/serving/autoscaling/scale-bounds/#scale-up-minimum
     */
    activationScale?: number;
    /**
     * Windows of warm capacity on a clock: `[Warm.between("18:00", "02:00", { timezone: "Asia/Seoul", minScale: 3 })]`.
     * Inside a window the service keeps that many pods (the highest of overlapping windows); outside, `minScale`.
     * The platform's scheduler in the namespace applies it to the revisions that take traffic, without a new revision.
     * @default none
     */
    schedule?: WarmWindow[];
    /** Send one request through the service when a window opens from zero, so it really starts warm. @default true */
    warmUpOnSchedule?: boolean;
}

/** The rendered result: revision template annotations plus the spec field. */
export interface RenderedScaling {
    annotations: Record<string, string>;
    containerConcurrency: number;
    minScale: number;
    maxScale: number;
    kpa: boolean;
}

const A = "autoscaling.knative.dev";
const WINDOW_MAX_MS = 3_600_000;

export const DEFAULT_MAX_SCALE = 10;
export const DEFAULT_INITIAL_SCALE = 1;

/**
 * Turns {@link ScalingArgs} into Knative's `autoscaling.knative.dev/*`
 * annotations, checking the rules Knative's webhook applies (and a few
 * misuses it would accept silently). Problems are recorded, not thrown.
 */
export function renderScaling(
    scaling: ScalingArgs,
    presetScaleDownDelay: string | undefined,
    limits: KnativeLimits,
    problems: Problems,
): RenderedScaling {
    const metric = scaling.metric ?? "concurrency";
    problems.oneOf("scaling.metric", metric, ALL_METRICS);
    const kpa = KPA_METRICS.includes(metric);
    const minScale = scaling.minScale ?? (kpa ? 0 : 1);
    const maxScale = scaling.maxScale ?? DEFAULT_MAX_SCALE;
    const initialScale = scaling.initialScale ?? DEFAULT_INITIAL_SCALE;
    const containerConcurrency = scaling.containerConcurrency ?? 0;

    const wholeAtLeast = (field: string, value: number, least: number, why = ""): boolean => {
        if (!isInt32(value, least)) {
            problems.add(`scaling.${field}`, `must be a whole number from ${least} to ${MAX_INT32}${why}`, value);
            return false;
        }
        return true;
    };

    const minOk = wholeAtLeast("minScale", minScale, 0);
    const maxOk = wholeAtLeast(
        "maxScale",
        maxScale,
        1,
        " (stricter than Knative, where 0 means unbounded: an unbounded service can take the whole cluster)",
    );
    if (minOk && maxOk && maxScale < minScale) {
        problems.add("scaling.maxScale", `must be ≥ scaling.minScale (${minScale})`, maxScale);
    }
    if (maxOk && limits.maxScaleLimit > 0 && maxScale > limits.maxScaleLimit) {
        problems.add(
            "scaling.maxScale",
            `must be ≤ the platform's max-scale-limit (${limits.maxScaleLimit})`,
            maxScale,
        );
    }
    if (!kpa && minOk && minScale < 1) {
        problems.add("scaling.minScale", `must be ≥ 1 with metric "${metric}": the HPA cannot scale to zero`, minScale);
    }
    if (wholeAtLeast("initialScale", initialScale, 0)) {
        if (initialScale === 0 && !limits.allowZeroInitialScale) {
            problems.add(
                "scaling.initialScale",
                "may be 0 only where the platform sets allowZeroInitialScale (Knative's allow-zero-initial-scale)",
                initialScale,
            );
        }
        if (maxOk && initialScale > maxScale) {
            problems.add(
                "scaling.initialScale",
                `must be ≤ scaling.maxScale (${maxScale}) (stricter than Knative, which would start fewer pods without saying so)`,
                initialScale,
            );
        }
    }
    if (!isInt32(containerConcurrency) || containerConcurrency > limits.containerConcurrencyMaxLimit) {
        problems.add(
            "scaling.containerConcurrency",
            `must be a whole number from 0 (no limit) to ${limits.containerConcurrencyMaxLimit}`,
            containerConcurrency,
        );
    }
    if (scaling.target !== undefined) {
        if (!(scaling.target >= 0.01)) {
            problems.add("scaling.target", "must be at least 0.01", scaling.target);
        } else if (metric === "concurrency" && containerConcurrency > 0 && scaling.target > containerConcurrency) {
            problems.add(
                "scaling.target",
                `must be ≤ scaling.containerConcurrency (${containerConcurrency}); Knative would cap it silently`,
                scaling.target,
            );
        }
    }
    const tup = scaling.targetUtilizationPercentage;
    if (tup !== undefined && !(tup >= 1 && tup <= 100)) {
        problems.add("scaling.targetUtilizationPercentage", "must be from 1 to 100", tup);
    }
    const activation = scaling.activationScale;
    if (activation !== undefined && wholeAtLeast("activationScale", activation, 2)) {
        if (activation < minScale || activation > maxScale) {
            problems.add(
                "scaling.activationScale",
                `must lie between scaling.minScale (${minScale}) and scaling.maxScale (${maxScale})`,
                activation,
            );
        }
    }
    const scaleDownDelay = scaling.scaleDownDelay ?? presetScaleDownDelay;
    checkDuration(problems, "scaling.scaleDownDelay", scaling.scaleDownDelay, 0, WINDOW_MAX_MS, "0s", "1h");
    checkDuration(problems, "scaling.window", scaling.window, 6_000, WINDOW_MAX_MS, "6s", "1h");
    if (!kpa) {
        for (const field of ["window", "targetUtilizationPercentage", "activationScale", "scaleDownDelay"] as const) {
            if (scaling[field] !== undefined) {
                problems.add(
                    `scaling.${field}`,
                    `applies only to the concurrency and rps metrics, not "${metric}" (stricter than Knative, which ignores it)`,
                    scaling[field],
                );
            }
        }
    }

    const annotations: Record<string, string> = {
        [`${A}/class`]: kpa ? "kpa.autoscaling.knative.dev" : "hpa.autoscaling.knative.dev",
        [`${A}/metric`]: metric,
        [`${A}/min-scale`]: String(minScale),
        [`${A}/max-scale`]: String(maxScale),
        [`${A}/initial-scale`]: String(initialScale),
    };
    const optional: Record<string, string | number | undefined> = {
        target: scaling.target,
        "target-utilization-percentage": tup,
        "activation-scale": activation,
        window: scaling.window,
        "scale-down-delay": kpa ? scaleDownDelay : undefined,
    };
    for (const [key, value] of Object.entries(optional)) {
        if (value !== undefined) {
            annotations[`${A}/${key}`] = String(value);
        }
    }
    return { annotations, containerConcurrency, minScale, maxScale, kpa };
}

/** Checks an optional Go duration against a range and Knative's second precision. */
export function checkDuration(
    problems: Problems,
    field: string,
    value: string | undefined,
    minMs: number,
    maxMs: number,
    minText: string,
    maxText: string,
): void {
    if (value === undefined) {
        return;
    }
    const duration = parseGoDuration(value);
    if (duration === undefined) {
        problems.add(field, 'must be a Go duration such as "90s", "5m" or "1h30m"', value);
    } else if (duration.ms < minMs || duration.ms > maxMs) {
        problems.add(field, `must be from ${minText} to ${maxText}`, value);
    } else if (!duration.wholeSeconds) {
        problems.add(field, "must be whole seconds (Knative allows no finer precision)", value);
    }
}
