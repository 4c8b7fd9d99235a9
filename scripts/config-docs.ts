/**
 * Prints the config's documentation from its schema (components/platform/config): the README's
 * reference table and Pulumi.yaml's `config:` block. With --write, puts them in place.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import { README_MARKERS, pulumiYamlConfig, readmeReference } from "../components/platform/config/reference.ts";

/** Pulumi.yaml's config block as YAML text. */
const pulumiYamlConfigText = () => stringify({ config: pulumiYamlConfig() }, { lineWidth: 0 });

const write = process.argv.includes("--write");
if (!write) {
    process.stdout.write(`${readmeReference()}\n\n${pulumiYamlConfigText()}`);
} else {
    const readme = readFileSync("README.md", "utf8");
    const start = readme.indexOf(README_MARKERS.start);
    const end = readme.indexOf(README_MARKERS.end);
    if (start < 0 || end < start) throw new Error("README.md has no config-reference markers");
    writeFileSync(
        "README.md",
        `${readme.slice(0, start + README_MARKERS.start.length)}\n\n${readmeReference()}\n\n${readme.slice(end)}`,
    );
    // Pulumi.yaml ends with its config block.
    const project = readFileSync("Pulumi.yaml", "utf8");
    const at = project.search(/^config:$/m);
    if (at < 0) throw new Error("Pulumi.yaml has no config block");
    writeFileSync("Pulumi.yaml", `${project.slice(0, at)}${pulumiYamlConfigText()}`);
}
