/**
 * Pure helpers for the values and objects the platform hands to upstream
 * installers: Helm values merging and image registry rewriting.
 */
import { isPlainObject } from "../shared/plain-object.ts";

/**
 * Merges Helm values: objects key by key, anything else (lists too) replaced
 * by the override. Keys are defined as own properties, so a "__proto__" key
 * from parsed config stays data and never reaches an object's prototype.
 */
export function deepMerge(base: Record<string, unknown>, override: Record<string, unknown>): Record<string, unknown> {
    const merged: Record<string, unknown> = {};
    const set = (key: string, value: unknown) =>
        Object.defineProperty(merged, key, { value, enumerable: true, writable: true, configurable: true });
    for (const [key, value] of Object.entries(base)) set(key, value);
    for (const [key, value] of Object.entries(override)) {
        const current = Object.hasOwn(merged, key) ? merged[key] : undefined;
        set(key, isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value);
    }
    return merged;
}

/**
 * Rewrites every string that names an image under `from` (e.g.
 * "gcr.io/knative-releases/knative.dev/serving/cmd/controller@sha256:…") to
 * the same path under `to`, anywhere in an object: container images, and the
 * images Knative passes through ConfigMaps and env vars (queue-proxy, adapters).
 * Digests are kept, so a mirror must hold the same images.
 */
export function rewriteImageRegistry<T>(value: T, from: string, to: string): T {
    const prefix = `${from.replace(/\/+$/, "")}/`;
    const target = `${to.replace(/\/+$/, "")}/`;
    const rewrite = (v: unknown): unknown => {
        if (typeof v === "string") {
            return v.startsWith(prefix) ? target + v.slice(prefix.length) : v;
        }
        if (Array.isArray(v)) {
            return v.map(rewrite);
        }
        if (isPlainObject(v)) {
            return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, rewrite(inner)]));
        }
        return v;
    };
    return rewrite(value) as T;
}
