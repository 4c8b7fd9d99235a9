import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Problems } from "../shared/problems.ts";

/**
 * Plain environment: each value a string (or an Output of one), or a reference to a Secret's or
 * ConfigMap's key ({@link fromSecret}, {@link fromConfigMap}); the shape kubernetesx's `EnvMap` has.
 */
export type EnvMap = Record<string, pulumi.Input<string | k8s.types.input.core.v1.EnvVarSource>>;

/** Ports Knative's queue-proxy and sidecars use, which the app may not listen on. */
export const RESERVED_PORTS: readonly number[] = [8008, 8012, 8013, 8022, 9090, 9091];
/** Variables Knative sets in every revision. */
export const RESERVED_ENV: readonly string[] = ["PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"];

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** An environment value read from a Secret or ConfigMap key at pod start. */
export type EnvSource = k8s.types.input.core.v1.EnvVarSource;

/** Reads an env var from a key of a Kubernetes Secret in the service's namespace. */
export function fromSecret(name: string, key: string): EnvSource {
    return { secretKeyRef: { name, key } };
}

/** Reads an env var from a key of a ConfigMap in the service's namespace. */
export function fromConfigMap(name: string, key: string): EnvSource {
    return { configMapKeyRef: { name, key } };
}

/** Checks the app port against Knative's reserved ports. */
export function checkPort(port: number, problems: Problems): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        problems.add("port", "must be a whole number from 1 to 65535", port);
    } else if (RESERVED_PORTS.includes(port)) {
        problems.add("port", `must not be one of Knative's reserved ports ${RESERVED_PORTS.join(", ")}`, port);
    }
}

/**
 * Renders `env` and `secretEnv` (values kept in a
 * Secret the component owns) into Kubernetes env entries, one entry per key so
 * that a secret or not-yet-known value hides only its own entry in a preview.
 * Keys are sorted, so a reordered map never shows as a diff.
 *
 * kubernetesx's PodBuilder is not used for the container: it resolves the whole
 * pod spec into one Output, so a single secret or unknown value would hide the
 * entire revision template in `pulumi preview`, and it renders `initContainers: []`
 * and port names that a default Knative refuses.
 */
export function renderEnv(
    env: EnvMap,
    secretEnv: Record<string, unknown>,
    secretName: string,
    problems: Problems,
): k8s.types.input.core.v1.EnvVar[] {
    const keys = [...Object.keys(env), ...Object.keys(secretEnv).filter((key) => !(key in env))];
    for (const key of keys) {
        if (!ENV_NAME.test(key)) {
            problems.add("env", "keys must be environment variable names (letters, digits, '_', '-', '.')", key);
        } else if (RESERVED_ENV.includes(key)) {
            problems.add("env", `must not set ${RESERVED_ENV.join(", ")}: Knative sets them`, key);
        } else if (key in secretEnv && key in env) {
            problems.add("secretEnv", "must not repeat a key of env", key);
        }
    }
    const entries: k8s.types.input.core.v1.EnvVar[] = Object.keys(env)
        .sort()
        .map((key) => {
            const value = env[key];
            if (isEnvSource(value)) {
                checkEnvSource(key, value, problems);
                return { name: key, valueFrom: value };
            }
            return { name: key, value: value as pulumi.Input<string> };
        });
    for (const key of Object.keys(secretEnv).sort()) {
        entries.push({ name: key, valueFrom: { secretKeyRef: { name: secretName, key } } });
    }
    return entries;
}

/** A plain EnvVarSource object, as opposed to a value (string, Output or promise of one). */
function isEnvSource(value: unknown): value is EnvSource {
    return typeof value === "object" && value !== null && !pulumi.Output.isInstance(value) && !("then" in value);
}

function checkEnvSource(key: string, value: EnvSource, problems: Problems): void {
    if ("fieldRef" in value || "resourceFieldRef" in value) {
        problems.add(
            `env.${key}`,
            "must not use fieldRef/resourceFieldRef: Knative allows them only with the kubernetes.podspec-fieldref feature",
            value,
        );
    }
}

/**
 * The restricted Pod Security profile at container level (Knative gates the
 * pod-level securityContext behind a feature flag).
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
export function restrictedSecurityContext(
    readOnlyRootFilesystem: boolean,
    runAsUser: number | undefined,
): k8s.types.input.core.v1.SecurityContext {
    return {
        runAsNonRoot: true,
        ...(runAsUser !== undefined ? { runAsUser } : {}),
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}
