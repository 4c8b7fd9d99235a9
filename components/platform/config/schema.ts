/**
 * The platform config's schema, declared once per key: how the key is read and checked, its
 * default, and what it means. Reading, the unknown-key check, the defaults, the descriptions in
 * Pulumi.yaml and the platform team's guide's reference table all come from it (scripts/config-docs.ts writes
 * the last two; a test fails when they disagree with the schema).
 */
import { parseGoDuration } from "../../shared/duration.ts";
import { Problems } from "../../shared/problems.ts";
import { parseQuantity } from "../../shared/quantity.ts";

/** One config key. */
export interface Field<T> {
    /** What the key means. */
    readonly doc: string;
    /** The default as the reference shows it; undefined when the key is required or unset means none. */
    readonly shown: string | undefined;
    /** Reads the stack's value (`undefined` when unset), recording each problem under `path`. */
    read(problems: Problems, path: string, raw: unknown): T;
}

/** The keys of an object section. */
export type Fields = Record<string, Field<unknown>>;
export type ValueOf<F extends Fields> = { -readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

/** An object section: its keys, each read with its default; a key it does not know is a problem. */
export interface Section<F extends Fields> extends Field<ValueOf<F>> {
    readonly fields: F;
}

export type Json = Record<string, unknown>;

/** What `raw` holds as an object section, recording a problem when it is not one. */
function objectOf(problems: Problems, path: string, raw: unknown): Json {
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== "object" || Array.isArray(raw)) {
        problems.add(path, "must be an object", raw);
        return {};
    }
    return raw as Json;
}

/** Records a problem for each key of `value` not in `known`. */
function unknownKeys(problems: Problems, path: string, value: Json, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
        if (!known.includes(key)) {
            problems.add(`${path}.${key}`, `is not a known key; known keys: ${known.join(", ")}`, key);
        }
    }
}

/**
 * An object section of `fields`; `check` adds the rules that tie its keys together, once each
 * key is read.
 */
export function section<F extends Fields>(
    doc: string,
    fields: F,
    check?: (problems: Problems, path: string, value: ValueOf<F>) => void,
): Section<F> {
    return {
        doc,
        shown: undefined,
        fields,
        read(problems, path, raw) {
            const value = objectOf(problems, path, raw);
            unknownKeys(problems, path, value, Object.keys(fields));
            const result = Object.fromEntries(
                Object.entries(fields).map(([key, field]) => [key, field.read(problems, `${path}.${key}`, value[key])]),
            ) as ValueOf<F>;
            check?.(problems, path, result);
            return result;
        },
    };
}

/** A section that is absent unless the stack sets it. */
export function optional<F extends Fields>(inner: Section<F>): Field<ValueOf<F> | undefined> & { fields: F } {
    return {
        doc: inner.doc,
        shown: undefined,
        fields: inner.fields,
        read: (problems, path, raw) => (raw === undefined ? undefined : inner.read(problems, path, raw)),
    };
}

/** A key read by `read` from the stack's value or, when unset, from `fallback`. */
export function field<T>(
    doc: string,
    fallback: T,
    read: (problems: Problems, path: string, value: unknown) => T,
    shown = fallback === undefined ? undefined : JSON.stringify(fallback),
): Field<T> {
    return { doc, shown, read: (problems, path, raw) => read(problems, path, raw ?? fallback) };
}

export function wholeNumber(doc: string, fallback: number, least: number): Field<number> {
    return field(doc, fallback, (problems, path, n) => {
        if (typeof n !== "number" || !Number.isInteger(n) || n < least) {
            problems.add(path, `must be a whole number ≥ ${least}`, n);
            return fallback;
        }
        return n;
    });
}

export function flag(doc: string, fallback: boolean): Field<boolean> {
    return field(doc, fallback, (problems, path, v) => {
        if (typeof v !== "boolean") {
            problems.add(path, "must be true or false", v);
            return fallback;
        }
        return v;
    });
}

export function oneOf<const T extends string>(doc: string, allowed: readonly T[], fallback: T): Field<T> {
    return field(doc, fallback, (problems, path, v) => (problems.oneOf(path, v, allowed) ? v : fallback));
}

export function quantity(doc: string, fallback: string, example = '"20Gi"'): Field<string> {
    return field(doc, fallback, (problems, path, q) => {
        if (typeof q !== "string" || !((parseQuantity(q) ?? 0) > 0)) {
            problems.add(path, `must be a positive Kubernetes quantity such as ${example}`, q);
            return fallback;
        }
        return q;
    });
}

/**
 * A Go duration in whole seconds, within `range` (inclusive bounds, in seconds) when given:
 * the ranges are the ones Knative's config parsers enforce, so Knative's config webhook never
 * refuses what passes here.
 */
export function duration(
    doc: string,
    fallback: string,
    range?: { min: bigint; max?: bigint; why: string },
): Field<string> {
    return field(doc, fallback, (problems, path, text) => {
        const parsed = typeof text === "string" ? parseGoDuration(text) : undefined;
        if (typeof text !== "string" || parsed === undefined || parsed.ns < 0n || !parsed.wholeSeconds) {
            problems.add(path, 'must be a Go duration in whole seconds, e.g. "30s" or "10m"', text);
            return fallback;
        }
        const seconds = parsed.ns / 1_000_000_000n;
        if (range !== undefined && (seconds < range.min || (range.max !== undefined && seconds > range.max))) {
            problems.add(path, range.why, text);
            return fallback;
        }
        return text;
    });
}

/** A string the stack may leave unset, checked by `valid` when set. */
export function optionalText(doc: string, valid: (value: string) => boolean, rule: string): Field<string | undefined> {
    return field<string | undefined>(doc, undefined, (problems, path, value) => {
        if (value !== undefined && (typeof value !== "string" || !valid(value))) {
            problems.add(path, rule, value);
            return undefined;
        }
        return value;
    });
}

export function storageClass(doc: string): Field<string | undefined> {
    return optionalText(doc, (v) => /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v), "must be a StorageClass name");
}

/** Helm values merged over the platform's: any object, passed as it is. */
export function helmValues(doc: string): Field<Json> {
    return { doc, shown: "{}", read: (problems, path, raw) => objectOf(problems, path, raw) };
}

/** What a section holds when the stack sets none of its keys. */
export function defaultsOf<F extends Fields>(schema: Section<F>): ValueOf<F> {
    return schema.read(new Problems("defaults"), "defaults", undefined);
}
