/**
 * Prints the config's documentation from its schema (components/platform/config): the platform
 * team's guide's reference table (docs/platform-team.md) and Pulumi.yaml's `config:` block. With --write, puts them in place.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import {
    REFERENCE_DOC,
    REFERENCE_MARKERS,
    pulumiYamlConfig,
    referenceTable,
} from "../components/platform/config/reference.ts";

/** Pulumi.yaml's config block as YAML text. */
const pulumiYamlConfigText = () => stringify({ config: pulumiYamlConfig() }, { lineWidth: 0 });

const write = process.argv.includes("--write");
if (!write) {
    process.stdout.write(`${referenceTable()}\n\n${pulumiYamlConfigText()}`);
} else {
    const doc = readFileSync(REFERENCE_DOC, "utf8");
    const start = doc.indexOf(REFERENCE_MARKERS.start);
    const end = doc.indexOf(REFERENCE_MARKERS.end);
    if (start < 0 || end < start) throw new Error(`${REFERENCE_DOC} has no config-reference markers`);
    writeFileSync(
        REFERENCE_DOC,
        `${doc.slice(0, start + REFERENCE_MARKERS.start.length)}\n\n${referenceTable()}\n\n${doc.slice(end)}`,
    );
    // Pulumi.yaml ends with its config block.
    const project = readFileSync("Pulumi.yaml", "utf8");
    const at = project.search(/^config:$/m);
    if (at < 0) throw new Error("Pulumi.yaml has no config block");
    writeFileSync("Pulumi.yaml", `${project.slice(0, at)}${pulumiYamlConfigText()}`);
}
