/**
 * The cluster-wide Knative limits a platform stack sets and exports (`knativeLimits`), which
 * ServerlessService checks its arguments against at program time.
 */
/** Limits the platform's Knative enforces; app stacks pass the platform stack's outputs. */
export interface KnativeLimits {
    /** `config-autoscaler` `max-scale-limit`; 0 means none. */
    maxScaleLimit: number;
    /** `config-autoscaler` `allow-zero-initial-scale`. */
    allowZeroInitialScale: boolean;
    /** `config-defaults` `container-concurrency-max-limit`. */
    containerConcurrencyMaxLimit: number;
}

/** Knative's own defaults for {@link KnativeLimits}. */
export const KNATIVE_DEFAULT_LIMITS: Readonly<KnativeLimits> = {
    maxScaleLimit: 0,
    allowZeroInitialScale: false,
    containerConcurrencyMaxLimit: 1000,
};
