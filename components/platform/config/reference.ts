/**
 * The config's documentation, rendered from its schema: the `config:` block of Pulumi.yaml (what
 * `pulumi config` and the Pulumi Cloud console show) and the platform team's guide's reference table. Written by
 * `node scripts/config-docs.ts --write`; test/config-reference.test.ts fails when either differs.
 */
import { PLATFORM_SCHEMA } from "./index.ts";
import type { Field, Fields } from "./schema.ts";

/** A field with keys of its own: a section, an optional section, or the namespaces map. */
function keysOf(field: Field<unknown>): Fields | undefined {
    if ("fields" in field) return field.fields as Fields;
    if ("entry" in field) return (field.entry as { fields: Fields }).fields;
    return undefined;
}

/** `{ a, b { c, d } }`: the keys a section takes, nested. */
function outline(fields: Fields): string {
    const keys = Object.entries(fields).map(([name, field]) => {
        const inner = keysOf(field);
        return inner === undefined ? name : `${name} ${outline(inner)}`;
    });
    return `{ ${keys.join(", ")} }`;
}

/** Pulumi.yaml's `config:` block. */
export function pulumiYamlConfig(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(
        Object.entries(PLATFORM_SCHEMA).map(([name, { type, schema, required }]) => {
            const inner = keysOf(schema);
            const shape = inner === undefined ? "" : `: ${"entry" in schema ? "name → " : ""}${outline(inner)}`;
            const declared: Record<string, unknown> = { type: type === "secret" ? "string" : type };
            if (type === "secret") declared.secret = true;
            if (type === "object" && !required) declared.default = {};
            declared.description =
                type === "secret"
                    ? `${schema.doc} (pulumi config set --secret ${name} <password> --stack <env>).`
                    : `${capitalized(schema.doc)}${shape}.`;
            return [name, declared];
        }),
    );
}

function capitalized(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One row per key a stack can set: its path, its default, what it means. */
function rows(path: string, field: Field<unknown>, top?: { secret: boolean; required: boolean }): string[][] {
    const inner = keysOf(field);
    if (inner === undefined) {
        const required = top?.secret ? "secret, required" : top?.required ? "required" : undefined;
        const shown = required ?? (field.shown === undefined ? "" : `\`${field.shown}\``);
        return [[`\`${path}\``, shown, field.doc]];
    }
    const prefix = "entry" in field ? `${path}.<name>` : path;
    const own = "entry" in field || top?.required ? [[`\`${path}\``, "required", field.doc]] : [];
    return [...own, ...Object.entries(inner).flatMap(([name, child]) => rows(`${prefix}.${name}`, child))];
}

/** The reference table of {@link REFERENCE_DOC}, every key with its default. */
export function referenceTable(): string {
    const body = Object.entries(PLATFORM_SCHEMA).flatMap(([name, { type, schema, required }]) =>
        rows(name, schema, { secret: type === "secret", required }),
    );
    const table = [["key", "default", "meaning"], ["---", "---", "---"], ...body];
    return table.map((cells) => `| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`).join("\n");
}

/** The platform team's guide, which holds the reference table between {@link REFERENCE_MARKERS}. */
export const REFERENCE_DOC = "docs/platform-team.md";

/** The markers around the table in {@link REFERENCE_DOC}. */
export const REFERENCE_MARKERS = {
    start: "<!-- config-reference: written by `node scripts/config-docs.ts --write` -->",
    end: "<!-- end of config-reference -->",
} as const;
