/** The `knative` config section: which Knative release, its replicas, and the settings of its own ConfigMaps. */
import type { KnativeLimits } from "../../shared/knative-limits.ts";
import { DEFAULT_KNATIVE, KNATIVE_MINORS, type KnativeMinor } from "../versions.ts";
import { type ValueOf, duration, field, flag, section, wholeNumber } from "./schema.ts";

/** A registry as Knative compares it with an image's: a host name with an optional port. */
const REGISTRY_HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$/i;

/** Knative's own default: the local registries of kind and ko. */
const KNATIVE_SKIPPED_REGISTRIES = ["kind.local", "ko.local", "dev.local"];

export const KNATIVE_SCHEMA = section(
    "Knative Serving: its release and replicas, and the settings it reads from its ConfigMaps",
    {
        // YAML reads 1.30 as the number 1.3: only a quoted minor names a release.
        version: field<KnativeMinor>(
            `the Knative release (minor) to install, one of ${KNATIVE_MINORS.join(", ")}; one minor above the installed at most`,
            DEFAULT_KNATIVE,
            (problems, path, version) => (problems.oneOf(path, version, KNATIVE_MINORS) ? version : DEFAULT_KNATIVE),
        ),
        replicas: wholeNumber(
            "replicas of Serving's and Eventing's control plane, with PodDisruptionBudgets above 1",
            1,
            1,
        ),
        maxScaleLimit: wholeNumber(
            "config-autoscaler max-scale-limit: the most pods a service may ask for; 0 is none",
            0,
            0,
        ),
        allowZeroInitialScale: flag("config-autoscaler allow-zero-initial-scale", false),
        containerConcurrencyMaxLimit: wholeNumber("config-defaults container-concurrency-max-limit", 1000, 1),
        // Knative's autoscaler and deployment config parsers (knative/serving pkg/autoscaler/config, pkg/deployment).
        scaleToZeroGracePeriod: duration("config-autoscaler scale-to-zero-grace-period", "30s", {
            min: 1n,
            why: "must be positive (Knative refuses 0s)",
        }),
        stableWindow: duration("config-autoscaler stable-window", "60s", {
            min: 6n,
            max: 3600n,
            why: "must lie between 6s and 1h (Knative's autoscaler window bounds)",
        }),
        targetConcurrency: wholeNumber("config-autoscaler container-concurrency-target-default", 100, 1),
        progressDeadline: duration("config-deployment progress-deadline", "600s", {
            min: 1n,
            why: "must be positive (Knative refuses 0s)",
        }),
        registriesSkippingTagResolving: field<string[]>(
            "config-deployment registries-skipping-tag-resolving: registries whose image tags Knative's controller does not resolve to digests (ones it cannot reach or authenticate to); their revisions run the tag as written",
            KNATIVE_SKIPPED_REGISTRIES,
            (problems, path, registries) => {
                const valid =
                    Array.isArray(registries) &&
                    registries.every((r) => typeof r === "string" && REGISTRY_HOST.test(r));
                if (!valid) {
                    problems.add(
                        path,
                        'must be a list of registry hosts, e.g. ["registry.corp.example:5000"]',
                        registries,
                    );
                    return KNATIVE_SKIPPED_REGISTRIES;
                }
                return registries as string[];
            },
        ),
    },
    (problems, path, knative) => {
        if (knative.targetConcurrency > knative.containerConcurrencyMaxLimit) {
            problems.add(
                `${path}.targetConcurrency`,
                `must be ≤ ${path}.containerConcurrencyMaxLimit (${knative.containerConcurrencyMaxLimit})`,
                knative.targetConcurrency,
            );
        }
    },
);

export type KnativeConfig = ValueOf<typeof KNATIVE_SCHEMA.fields>;

/** The limits app stacks check ServerlessServices against (the `knativeLimits` output). */
export function knativeLimitsOf(knative: KnativeConfig): KnativeLimits {
    return {
        maxScaleLimit: knative.maxScaleLimit,
        allowZeroInitialScale: knative.allowZeroInitialScale,
        containerConcurrencyMaxLimit: knative.containerConcurrencyMaxLimit,
    };
}
