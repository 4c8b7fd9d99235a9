/**
 * `npm run preview -- <env>` and `npm run up -- <env>`: runs the Pulumi CLI on
 * the platform stack of one environment. State goes to a local file backend
 * (.pulumi-state/) unless PULUMI_BACKEND_URL says otherwise, so no account is
 * needed. Extra arguments are passed to pulumi (`npm run preview -- dev --diff`).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { ENVIRONMENTS } from "../components/platform-config.ts";

const [command, stack, ...passThrough] = process.argv.slice(2);
if (command === undefined || stack === undefined || !(ENVIRONMENTS as readonly string[]).includes(stack)) {
    console.error(`usage: npm run ${command ?? "<preview|up>"} -- <${ENVIRONMENTS.join("|")}> [pulumi arguments]`);
    process.exit(2);
}

const env = { ...process.env };
if (!env.PULUMI_BACKEND_URL) {
    const stateDir = resolve(".pulumi-state");
    mkdirSync(stateDir, { recursive: true });
    env.PULUMI_BACKEND_URL = `file://${stateDir}`;
    console.error(`Using the local state backend ${env.PULUMI_BACKEND_URL} (set PULUMI_BACKEND_URL to use another).`);
}

function pulumi(args: string[]): number {
    const result = spawnSync("pulumi", args, { stdio: "inherit", env });
    if (result.error) {
        const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
        console.error(
            missing
                ? "The Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/iac/download-install/) and run this again."
                : `Could not run pulumi: ${result.error.message}`,
        );
        return 1;
    }
    return result.status ?? 1;
}

const selected = pulumi(["stack", "select", "--create", stack]);
process.exit(selected === 0 ? pulumi([command, "--stack", stack, ...passThrough]) : selected);
