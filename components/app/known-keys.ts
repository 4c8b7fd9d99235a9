/**
 * Unknown keys in a ServerlessService's arguments, at every depth. App stacks often run without
 * a type check (plain JavaScript, `as any`, config read as JSON), and a misspelt key such as
 * `scaling.minscale` would otherwise silently take its default. Each key list below is checked
 * against its TypeScript interface at compile time (`satisfies`), so the lists cannot drift.
 */
import { isPlainObject } from "../shared/plain-object.ts";
import type { WarmWindow } from "../shared/warm/windows.ts";
import type { Problems } from "../shared/problems.ts";
import type { PlatformLimits, ServerlessServiceArgs } from "./args.ts";
import type { ResourcesArgs, StartupProbeArgs } from "./runtime.ts";
import type { ScalingArgs } from "./scaling.ts";
import type { TrafficTarget } from "./traffic.ts";
import type { BrokerTriggerArgs, CronTriggerArgs, DeliveryArgs, KafkaTriggerArgs, TriggersArgs } from "./triggers.ts";

type Keys<T> = Record<keyof Required<T>, true>;

const ARGS = {
    namespace: true,
    image: true,
    port: true,
    protocol: true,
    env: true,
    secretEnv: true,
    scaling: true,
    traffic: true,
    revisionName: true,
    visibility: true,
    timeoutSeconds: true,
    rolloutDuration: true,
    serviceAccountName: true,
    mountServiceAccountToken: true,
    readOnlyRootFilesystem: true,
    runAsUser: true,
    labels: true,
    triggers: true,
    platform: true,
    runtime: true,
    resources: true,
    startupProbe: true,
    jvmOptions: true,
    progressDeadline: true,
    healthPath: true,
    readyTimeoutSeconds: true,
} satisfies Keys<ServerlessServiceArgs>;
const SCALING = {
    minScale: true,
    maxScale: true,
    initialScale: true,
    target: true,
    metric: true,
    containerConcurrency: true,
    scaleDownDelay: true,
    window: true,
    targetUtilizationPercentage: true,
    activationScale: true,
    schedule: true,
    warmUpOnSchedule: true,
} satisfies Keys<ScalingArgs>;
const WARM_WINDOW = { from: true, until: true, timezone: true, minScale: true, days: true } satisfies Keys<WarmWindow>;
const TRAFFIC = { revisionName: true, latestRevision: true, percent: true, tag: true } satisfies Keys<
    TrafficTarget & { latestRevision: boolean }
>;
const RESOURCES = { cpu: true, cpuLimit: true, memory: true } satisfies Keys<ResourcesArgs>;
const STARTUP_PROBE = {
    periodSeconds: true,
    failureThreshold: true,
    timeoutSeconds: true,
} satisfies Keys<StartupProbeArgs>;
const PLATFORM = {
    maxScaleLimit: true,
    allowZeroInitialScale: true,
    containerConcurrencyMaxLimit: true,
    maxRevisionTimeoutSeconds: true,
} satisfies Keys<PlatformLimits>;
const TRIGGERS = { cron: true, kafka: true, broker: true } satisfies Keys<TriggersArgs>;
const CRON = {
    schedule: true,
    timezone: true,
    data: true,
    contentType: true,
    name: true,
} satisfies Keys<CronTriggerArgs>;
const DELIVERY = {
    retry: true,
    backoffPolicy: true,
    backoffDelay: true,
    deadLetterSink: true,
} satisfies Keys<DeliveryArgs>;
const KAFKA = {
    bootstrapServers: true,
    topics: true,
    consumerGroup: true,
    initialOffset: true,
    ordering: true,
    consumers: true,
    delivery: true,
    name: true,
} satisfies Keys<KafkaTriggerArgs>;
const BROKER = { broker: true, filter: true, delivery: true, name: true } satisfies Keys<BrokerTriggerArgs>;

/** The shape to check: known keys, and for some of them the shape of their value (an object, or a list of objects). */
interface Shape {
    keys: Record<string, true>;
    nested?: Record<string, Shape | { each: Shape }>;
}
const DELIVERY_SHAPE: Shape = { keys: DELIVERY };
const SHAPE: Shape = {
    keys: ARGS,
    nested: {
        scaling: { keys: SCALING, nested: { schedule: { each: { keys: WARM_WINDOW } } } },
        traffic: { each: { keys: TRAFFIC } },
        resources: { keys: RESOURCES },
        startupProbe: { keys: STARTUP_PROBE },
        platform: { keys: PLATFORM },
        triggers: {
            keys: TRIGGERS,
            nested: {
                cron: { each: { keys: CRON } },
                kafka: { each: { keys: KAFKA, nested: { delivery: DELIVERY_SHAPE } } },
                broker: { each: { keys: BROKER, nested: { delivery: DELIVERY_SHAPE } } },
            },
        },
    },
};

/** Levenshtein distance, case-insensitive: how far a typo is from a known key. */
function distance(a: string, b: string): number {
    const [x, y] = [a.toLowerCase(), b.toLowerCase()];
    let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
    for (let i = 1; i <= x.length; i++) {
        const current = [i];
        for (let j = 1; j <= y.length; j++) {
            current[j] = Math.min(
                (previous[j] ?? 0) + 1,
                (current[j - 1] ?? 0) + 1,
                (previous[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1),
            );
        }
        previous = current;
    }
    return previous[y.length] ?? 0;
}

function check(value: unknown, shape: Shape, path: string, problems: Problems): void {
    if (!isPlainObject(value)) return;
    const known = Object.keys(shape.keys);
    for (const [key, inner] of Object.entries(value)) {
        const field = path === "" ? key : `${path}.${key}`;
        if (!(key in shape.keys)) {
            const nearest = [...known].sort((a, b) => distance(key, a) - distance(key, b))[0] ?? "";
            problems.add(
                field,
                `is not a known argument; did you mean "${nearest}"? (known here: ${known.join(", ")})`,
                inner,
            );
            continue;
        }
        const nested = shape.nested?.[key];
        if (nested === undefined || inner === undefined) continue;
        if ("each" in nested) {
            if (Array.isArray(inner)) {
                inner.forEach((item, i) => {
                    check(item, nested.each, `${field}[${i}]`, problems);
                });
            }
        } else {
            check(inner, nested, field, problems);
        }
    }
}

/** Records every key of `args` that ServerlessService does not know, naming the nearest known one. */
export function checkKnownKeys(args: ServerlessServiceArgs, problems: Problems): void {
    check(args, SHAPE, "", problems);
}
