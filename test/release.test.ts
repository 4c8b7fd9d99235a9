import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { publishRefusal, releaseNotes } from "../scripts/release.ts";

const CHANGELOG = "# Changelog\n\n## 0.2.0\n\n- Canary by header.\n\n## 0.1.0\n\n- First release.\n";

describe("a release tag", () => {
    test("agrees with both packages' versions and prints its changelog section", () => {
        expect(releaseNotes("v0.2.0", { root: "0.2.0", provider: "0.2.0" }, CHANGELOG)).toBe("- Canary by header.");
        expect(releaseNotes("v0.1.0", { root: "0.1.0", provider: "0.1.0" }, CHANGELOG)).toBe("- First release.");
    });

    test("is refused, naming everything that disagrees", () => {
        expect(() => releaseNotes("v0.3.0", { root: "0.2.1", provider: "0.2.0" }, CHANGELOG)).toThrow(
            'release v0.3.0: the tag v0.3.0 is not v0.2.1, the version of package.json; provider/package.json is at 0.2.0, not 0.2.1: run `npm version`; CHANGELOG.md has no "## 0.2.1" section that says what changed',
        );
        expect(() => releaseNotes("v0.2.0", { root: "0.2.0", provider: "0.2.0" }, "## 0.2.0\n\n## 0.1.0\n- x")).toThrow(
            'release v0.2.0: CHANGELOG.md has no "## 0.2.0" section that says what changed',
        );
    });

    test("of this repository's own version has its notes", () => {
        const version = (path: string) =>
            (JSON.parse(readFileSync(new URL(`../${path}`, import.meta.url), "utf8")) as { version: string }).version;
        const changelog = readFileSync(new URL("../CHANGELOG.md", import.meta.url), "utf8");
        const root = version("package.json");
        expect(releaseNotes(`v${root}`, { root, provider: version("provider/package.json") }, changelog)).not.toBe("");
    });
});

describe("publishing", () => {
    test("goes to the registry the company names", () => {
        expect(publishRefusal("https://npm.corp.example/")).toBeUndefined();
    });

    test("never to the public registry, named or by default", () => {
        const refusal =
            "serverless-platform is published to the company's registry only, not to https://registry.npmjs.org/: npm publish --registry <the company's registry>";
        expect(publishRefusal(undefined)).toBe(refusal);
        expect(publishRefusal("https://registry.npmjs.org/")).toBe(refusal);
    });
});
