import type * as pulumi from "@pulumi/pulumi";
import { isDns1123Label } from "./serverless/names.ts";
import { Problems } from "./serverless/problems.ts";
import { KNATIVE_DEFAULT_LIMITS, type KnativeLimits } from "./serverless/scaling.ts";

/** The environments a platform stack can be. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The platform stack's configuration, typed and checked. */
export interface PlatformConfig {
    environment: Environment;
    /** Domain public Knative Services are served on (`<service>.<namespace>.<domain>`). */
    domain: string;
    /** Namespaces app teams deploy ServerlessServices into. */
    appNamespaces: string[];
    /** Limits the platform's Knative enforces; app stacks pass them to ServerlessService. */
    knativeLimits: KnativeLimits;
}

/** The config keys this project reads, so that a typo is reported instead of ignored. */
export const CONFIG_KEYS = [
    "environment",
    "domain",
    "appNamespaces",
    "maxScaleLimit",
    "allowZeroInitialScale",
    "containerConcurrencyMaxLimit",
] as const;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Reads and checks the platform config of the current stack. `configuredKeys`
 * are the keys set in the stack file (without the project prefix); unknown ones
 * are an error, since a misspelt key would otherwise silently take its default.
 */
export function readPlatformConfig(config: pulumi.Config, configuredKeys: readonly string[]): PlatformConfig {
    const problems = new Problems(`Stack config "${config.name}"`);
    for (const key of configuredKeys) {
        if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
            problems.add(key, `is not a known key; known keys: ${CONFIG_KEYS.join(", ")}`, key);
        }
    }
    const environment = config.require("environment");
    if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
        problems.add("environment", `must be one of ${ENVIRONMENTS.join(", ")}`, environment);
    }
    const domain = config.require("domain");
    if (!DOMAIN.test(domain)) {
        problems.add("domain", 'must be a lowercase DNS domain such as "dev.games.example.com"', domain);
    }
    const appNamespaces = config.requireObject<unknown>("appNamespaces");
    if (!Array.isArray(appNamespaces) || appNamespaces.length === 0) {
        problems.add("appNamespaces", "must be a non-empty list of namespace names", appNamespaces);
    } else {
        for (const ns of appNamespaces) {
            if (typeof ns !== "string" || !isDns1123Label(ns) || ns.startsWith("kube-") || ns.startsWith("knative-")) {
                problems.add("appNamespaces", "entries must be DNS-1123 labels outside kube-* and knative-*", ns);
            }
        }
    }
    const limits: KnativeLimits = {
        maxScaleLimit: config.getNumber("maxScaleLimit") ?? KNATIVE_DEFAULT_LIMITS.maxScaleLimit,
        allowZeroInitialScale:
            config.getBoolean("allowZeroInitialScale") ?? KNATIVE_DEFAULT_LIMITS.allowZeroInitialScale,
        containerConcurrencyMaxLimit:
            config.getNumber("containerConcurrencyMaxLimit") ?? KNATIVE_DEFAULT_LIMITS.containerConcurrencyMaxLimit,
    };
    for (const key of ["maxScaleLimit", "containerConcurrencyMaxLimit"] as const) {
        if (!Number.isInteger(limits[key]) || limits[key] < 0) {
            problems.add(key, "must be a whole number ≥ 0", limits[key]);
        }
    }
    problems.throwIfAny();
    return {
        environment: environment as Environment,
        domain,
        appNamespaces: appNamespaces as string[],
        knativeLimits: limits,
    };
}
