/**
 * Bad platform config, fuzzed from the schema itself: every key of every section, in turn, is given a
 * value of another type than the key's own, and every section an unknown neighbour key. Each run of
 * the program fails before registering anything but the stack, with the component's own error naming
 * the stack, the key and the rule; none crashes with another error.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { PLATFORM_SCHEMA } from "../components/platform/config/index.ts";
import { NAMESPACE_SCHEMA } from "../components/platform/config/namespaces.ts";
import type { Field } from "../components/platform/config/schema.ts";
import { InvalidArgumentsError, Problems } from "../components/shared/problems.ts";
import { runProgram } from "./harness.ts";
import { platformUnderTest, stackConfig } from "./stacks.ts";

const STACK = 'Stack "dev" (stacks/Pulumi.dev.yaml)';
const DEV = stackConfig("dev");

type Kind = "string" | "number" | "boolean" | "array" | "object";
/** The kind of a JSON value (the config is JSON), or undefined for none. */
function kindOf(value: unknown): Kind | undefined {
    if (value === null || value === undefined) return undefined;
    return Array.isArray(value) ? "array" : (typeof value as Kind);
}

/** A key of the config inside an object-valued top-level key, with the kind of value it takes. */
interface Key {
    top: string;
    /** Its path below the top-level key. */
    path: string[];
    kind: Kind;
    /** A section's own keys. */
    known?: string[];
}

/** Every key below `path`: a section's keys, recursively; a leaf's kind is its default's, or text when it has none. */
function keysOf(
    top: string,
    path: string[],
    field: Field<unknown> & { fields?: Record<string, Field<unknown>> },
): Key[] {
    if (field.fields !== undefined) {
        const own: Key = { top, path, kind: "object", known: Object.keys(field.fields) };
        return [own, ...Object.entries(field.fields).flatMap(([name, child]) => keysOf(top, [...path, name], child))];
    }
    return [{ top, path, kind: kindOf(field.read(new Problems("defaults"), "defaults", undefined)) ?? "string" }];
}

/** The dev stack's own namespace, whose settings are fuzzed as a section. */
const NAMESPACE = Object.keys(JSON.parse(DEV["serverless-platform:namespaces"] ?? "{}") as object)[0] ?? "";

const KEYS: Key[] = [
    ...Object.entries(PLATFORM_SCHEMA)
        .filter(([, key]) => key.type === "object" && "fields" in key.schema)
        .flatMap(([top, key]) => keysOf(top, [], key.schema)),
    ...keysOf("namespaces", [NAMESPACE], NAMESPACE_SCHEMA),
];

/** The dev stack's value of an object key, with `value` at `path`. */
function withValue(top: string, path: string[], value: unknown): Record<string, string> {
    if (path.length === 0) return { ...DEV, [`serverless-platform:${top}`]: JSON.stringify(value) };
    const section = JSON.parse(DEV[`serverless-platform:${top}`] ?? "{}") as Record<string, unknown>;
    let cursor = section;
    for (const name of path.slice(0, -1)) {
        const next = cursor[name];
        cursor[name] = typeof next === "object" && next !== null && !Array.isArray(next) ? next : {};
        cursor = cursor[name] as Record<string, unknown>;
    }
    cursor[path.at(-1) ?? ""] = value;
    return { ...DEV, [`serverless-platform:${top}`]: JSON.stringify(section) };
}

const ANY_VALUE: fc.Arbitrary<unknown> = fc.oneof(
    fc.integer({ min: -1_000_000, max: 1_000_000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.string(),
    fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
);

/** What the program throws for `config`, and what it registered. */
async function runWith(config: Record<string, string>): Promise<{ error: unknown; registered: string[] }> {
    let error: unknown;
    const registered = await runProgram(
        async () => {
            await platformUnderTest().catch((thrown: unknown) => {
                error = thrown;
            });
        },
        { config },
    );
    return { error, registered: registered.map((r) => r.type) };
}

/** The run failed as the platform fails on bad config: its own error, naming the stack and `key`, nothing registered. */
function refusedNaming(run: { error: unknown; registered: string[] }, key: string): void {
    expect(run.error).toBeInstanceOf(InvalidArgumentsError);
    const message = (run.error as Error).message;
    expect(message.startsWith(`${STACK}: `)).toBe(true);
    expect(message).toContain(`${key} `);
    expect(run.registered).toEqual(["pulumi:pulumi:Stack"]);
}

describe("bad platform config, fuzzed from the schema", () => {
    test("the schema is walked: every section's keys are fuzzed", () => {
        expect(KEYS.map((key) => [key.top, ...key.path].join("."))).toEqual(
            expect.arrayContaining([
                "knative.maxScaleLimit",
                "istio.values.istiod",
                "eventing.kafka.bootstrapServers",
                "monitoring.logs.retentionDays",
                `namespaces.${NAMESPACE}.quota.cpu`,
            ]),
        );
    });

    test.each(KEYS.map((key) => [[key.top, ...key.path].join("."), key] as const))(
        "%s: a value of another type is refused, naming the key",
        async (name, key) => {
            const wrong = ANY_VALUE.filter((value) => kindOf(value) !== key.kind);
            await fc.assert(
                fc.asyncProperty(wrong, async (value) => {
                    refusedNaming(await runWith(withValue(key.top, key.path, value)), name);
                }),
                { numRuns: 8 },
            );
        },
        60_000,
    );

    test.each(
        KEYS.filter((key) => key.known !== undefined).map((key) => [[key.top, ...key.path].join("."), key] as const),
    )(
        "%s: an unknown neighbour key is refused, naming it and the known keys",
        async (name, key) => {
            const unknown = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,11}$/);
            await fc.assert(
                fc.asyncProperty(unknown, ANY_VALUE, async (neighbour, value) => {
                    fc.pre(!(key.known ?? []).includes(neighbour));
                    const run = await runWith(withValue(key.top, [...key.path, neighbour], value));
                    refusedNaming(run, `${name}.${neighbour}`);
                    expect((run.error as Error).message).toMatch(/is not a known key; known keys: /);
                }),
                { numRuns: 5 },
            );
        },
        60_000,
    );
});
