/**
 * The public API of the serverless platform: what app stacks import
 * (`import { ServerlessService, Traffic } from "serverless-platform"`).
 */
export { ServerlessService } from "./serverless-service.ts";
export type { ServerlessServiceArgs, Visibility, PlatformLimits } from "./serverless/render.ts";
export { SERVERLESS_SERVICE_DEFAULTS, renderServerlessService } from "./serverless/render.ts";
export { Traffic, type TrafficTarget } from "./serverless/traffic.ts";
export type { ScalingArgs, ScalingMetric, KnativeLimits } from "./serverless/scaling.ts";
export { KNATIVE_DEFAULT_LIMITS } from "./serverless/scaling.ts";
export { RUNTIME_PRESETS, type Runtime, type ResourcesArgs, type StartupProbeArgs } from "./serverless/runtime.ts";
export type {
    TriggersArgs,
    CronTriggerArgs,
    KafkaTriggerArgs,
    BrokerTriggerArgs,
    DeliveryArgs,
} from "./serverless/triggers.ts";
export { fromSecret, fromConfigMap, type EnvSource } from "./serverless/container.ts";
export { InvalidArgumentsError } from "./serverless/problems.ts";
export { PlatformReference } from "./platform-reference.ts";
export { ENVIRONMENTS, type Environment } from "./platform-config.ts";
export { Warm, type WarmOptions } from "./warm/warm.ts";
export type { WarmWindow, Day } from "./warm/windows.ts";
