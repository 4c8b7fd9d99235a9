/**
 * The public API of the serverless platform: what app stacks import
 * (`import { ServerlessService, Traffic } from "serverless-platform"`).
 */
export { ServerlessService } from "./app/serverless-service.ts";
export type { PlatformLimits, ServerlessServiceArgs, Visibility } from "./app/args.ts";
export { SERVERLESS_SERVICE_DEFAULTS, renderServerlessService } from "./app/render.ts";
export { Traffic, type TrafficTarget } from "./app/traffic.ts";
export type { ScalingArgs, ScalingMetric } from "./app/scaling.ts";
export { KNATIVE_DEFAULT_LIMITS, type KnativeLimits } from "./shared/knative-limits.ts";
export { RUNTIME_PRESETS, type Runtime, type ResourcesArgs, type StartupProbeArgs } from "./app/runtime.ts";
export type {
    TriggersArgs,
    CronTriggerArgs,
    KafkaTriggerArgs,
    BrokerTriggerArgs,
    DeliveryArgs,
} from "./app/triggers.ts";
export { fromSecret, fromConfigMap, type EnvSource, type EnvMap } from "./app/container.ts";
export { InvalidArgumentsError } from "./shared/problems.ts";
export { PlatformReference } from "./app/platform-reference.ts";
export { ENVIRONMENTS, type Environment } from "./shared/environments.ts";
export { Warm, type WarmOptions } from "./app/warm.ts";
export type { WarmWindow, Day } from "./shared/warm/windows.ts";
