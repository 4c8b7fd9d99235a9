/**
 * Releasing the package app teams install, and the component package YAML stacks name at the same tag:
 *
 *   node scripts/release.ts notes <tag>   checks the tag against both packages' versions and CHANGELOG.md,
 *                                         and prints the changelog's section for it (the release workflow's notes)
 *   node scripts/release.ts sync          gives provider/ the root package's version; npm's `version` step runs it
 *   node scripts/release.ts registry      refuses a publish to the public npm registry (npm's `prepublishOnly`)
 *
 * The package is published to the registry the company names (`npm publish --registry <url>`; the release
 * workflow passes the repository variable NPM_REGISTRY), never to the public one by accident.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const PUBLIC_REGISTRY = "registry.npmjs.org";

/** The versions a release carries: the npm package's and the component package's (provider/). */
export interface ReleaseVersions {
    root: string;
    provider: string;
}

/**
 * The changelog's notes for release `tag`, or an error naming everything that disagrees: the tag must be
 * `v<version>` of both packages, and CHANGELOG.md must have a `## <version>` section that says something.
 */
export function releaseNotes(tag: string, versions: ReleaseVersions, changelog: string): string {
    const problems: string[] = [];
    if (tag !== `v${versions.root}`) {
        problems.push(`the tag ${tag} is not v${versions.root}, the version of package.json`);
    }
    if (versions.provider !== versions.root) {
        problems.push(`provider/package.json is at ${versions.provider}, not ${versions.root}: run \`npm version\``);
    }
    const notes = changelogSection(changelog, versions.root);
    if (notes === undefined) {
        problems.push(`CHANGELOG.md has no "## ${versions.root}" section that says what changed`);
    }
    if (problems.length > 0) throw new Error(`release ${tag}: ${problems.join("; ")}`);
    return notes ?? "";
}

/** The text under `## <version>` up to the next `## ` heading, or undefined if there is none or it is empty. */
function changelogSection(changelog: string, version: string): string | undefined {
    const lines = changelog.split("\n");
    const start = lines.findIndex((line) => line.trim() === `## ${version}`);
    if (start < 0) return undefined;
    const end = lines.findIndex((line, index) => index > start && line.startsWith("## "));
    const text = lines
        .slice(start + 1, end < 0 ? undefined : end)
        .join("\n")
        .trim();
    return text === "" ? undefined : text;
}

/** Why a publish to `registry` is refused, or undefined for a registry the company named. */
export function publishRefusal(registry: string | undefined): string | undefined {
    if (registry === undefined || registry === "" || new URL(registry).hostname === PUBLIC_REGISTRY) {
        return `serverless-platform is published to the company's registry only, not to ${registry || `https://${PUBLIC_REGISTRY}/`}: npm publish --registry <the company's registry>`;
    }
    return undefined;
}

function readJson(path: string): { version: string } & Record<string, unknown> {
    return JSON.parse(readFileSync(join(ROOT, path), "utf8")) as { version: string } & Record<string, unknown>;
}

function main(command: string | undefined, argument: string | undefined): void {
    if (command === "notes" && argument !== undefined) {
        const versions = {
            root: readJson("package.json").version,
            provider: readJson("provider/package.json").version,
        };
        process.stdout.write(`${releaseNotes(argument, versions, readFileSync(join(ROOT, "CHANGELOG.md"), "utf8"))}\n`);
    } else if (command === "sync") {
        const provider = readJson("provider/package.json");
        const version = readJson("package.json").version;
        writeFileSync(join(ROOT, "provider/package.json"), `${JSON.stringify({ ...provider, version }, null, 2)}\n`);
    } else if (command === "registry") {
        // npm exports a registry given on its command line or in an .npmrc; an environment variable stays as set.
        const refusal = publishRefusal(process.env.npm_config_registry ?? process.env.NPM_CONFIG_REGISTRY);
        if (refusal !== undefined) throw new Error(refusal);
    } else {
        throw new Error("usage: node scripts/release.ts notes <tag> | sync | registry");
    }
}

if (import.meta.filename === process.argv[1]) {
    try {
        main(process.argv[2], process.argv[3]);
    } catch (error) {
        console.error(error instanceof Error ? error.message : String(error));
        process.exit(1);
    }
}
