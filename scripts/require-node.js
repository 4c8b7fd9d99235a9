// @ts-check
/**
 * Runs before the commands the README gives (`npm test`, `npm run up|preview|destroy|cluster`): on a
 * Node.js older than package.json's `engines.node`, one line says which Node was found and which
 * one the project needs, and the command stops, where it would otherwise die in a loader's stack
 * trace. Plain JavaScript, so that any Node can run it.
 */
import { readFileSync } from "node:fs";

const range = String(JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).engines.node);
const required = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(range);
if (required === null) throw new Error(`package.json engines.node is "${range}"; this check reads ">=X.Y.Z"`);

const found = process.versions.node.split(".").map(Number);
const wanted = required.slice(1).map(Number);
const older = wanted.findIndex((part, index) => (found[index] ?? 0) !== part);
if (older !== -1 && (found[older] ?? 0) < (wanted[older] ?? 0)) {
    console.error(
        `serverless-platform needs Node.js ${range} (found ${process.versions.node}): install Node 24 LTS (.node-version names it)`,
    );
    process.exit(1);
}
