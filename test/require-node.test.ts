/**
 * The Node.js check the README's commands run first (scripts/require-node.js), run as npm runs it,
 * on the Node versions it is told it runs on.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

const SCRIPT = new URL("../scripts/require-node.js", import.meta.url).href;
const REQUIRED = (
    JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
        engines: { node: string };
    }
).engines.node;

/** Runs the check on this Node, made to report `version`: its exit code and what it printed. */
function checkOn(version: string): { status: number | null; output: string } {
    const program = `Object.defineProperty(process, "versions", { value: { ...process.versions, node: ${JSON.stringify(version)} } });
await import(${JSON.stringify(SCRIPT)});`;
    const run = spawnSync(process.execPath, ["--input-type=module", "--eval", program], { encoding: "utf8" });
    return { status: run.status, output: run.stdout + run.stderr };
}

describe("the README's commands on an older Node.js", () => {
    test("package.json requires the first Node 22 that runs TypeScript without a flag", () => {
        expect(REQUIRED).toBe(">=22.18.0");
    });

    test.each(["20.20.2", "22.17.9", "21.7.3", "8.0.0"])("%s: one line naming both versions, and exit 1", (version) => {
        expect(checkOn(version)).toEqual({
            status: 1,
            output: `serverless-platform needs Node.js >=22.18.0 (found ${version}): install Node 24 LTS (.node-version names it)\n`,
        });
    });

    test.each(["22.18.0", "22.20.1", "23.0.0", "24.21.0", "100.0.0"])("%s: silent, and exit 0", (version) => {
        expect(checkOn(version)).toEqual({ status: 0, output: "" });
    });
});
