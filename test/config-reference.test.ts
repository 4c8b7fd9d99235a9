import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import {
    REFERENCE_DOC,
    REFERENCE_MARKERS,
    pulumiYamlConfig,
    referenceTable,
} from "../components/platform/config/reference.ts";

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), "utf8");

/** A Markdown table's cells, whatever its column padding. */
const cells = (table: string) =>
    table
        .trim()
        .split("\n")
        .filter((line) => !/^\|[\s|:-]+\|$/.test(line))
        .map((line) =>
            line
                .split(/(?<!\\)\|/)
                .slice(1, -1)
                .map((cell) => cell.trim()),
        );

describe("the config's documentation agrees with its schema", () => {
    test("Pulumi.yaml declares every key, its type, default and description from the schema", () => {
        const { config } = parse(read("Pulumi.yaml")) as { config: unknown };
        expect(config).toEqual(pulumiYamlConfig());
    });

    test("the platform team's guide's reference table lists every key with its default and meaning", () => {
        const doc = read(REFERENCE_DOC);
        const table = doc.slice(
            doc.indexOf(REFERENCE_MARKERS.start) + REFERENCE_MARKERS.start.length,
            doc.indexOf(REFERENCE_MARKERS.end),
        );
        expect(table.trim()).not.toBe("");
        expect(cells(table)).toEqual(cells(referenceTable()));
    });
});
