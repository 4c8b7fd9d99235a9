/**
 * Which stacks a change affects, so that a pull request previews exactly those.
 *   node scripts/affected-stacks.ts <base-ref> [head-ref]   → JSON list for a workflow matrix
 * A stack file changes one environment; shared code, the policy pack or the
 * dependencies change every stack; an example changes its own stacks; docs
 * and tests change none.
 */
import { execFileSync } from "node:child_process";
import { ENVIRONMENTS } from "../components/shared/environments.ts";

/** One stack to preview: where its Pulumi project is, its name and its environment. */
export interface AffectedStack {
    workDir: string;
    stack: string;
    environment: string;
}

/** The example app stacks, by directory. */
export const EXAMPLES = ["examples/hourly-stats", "examples/spring-api"];

const SHARED = [
    /^components\//,
    /^index\.ts$/,
    /^Pulumi\.yaml$/,
    /^package(-lock)?\.json$/,
    /^policy\//,
    /^tsconfig\.json$/,
];

const everywhere = (workDir: string): AffectedStack[] =>
    ENVIRONMENTS.map((environment) => ({ workDir, stack: environment, environment }));

/** The stacks affected by a list of changed paths, without duplicates, in a stable order. */
export function affectedStacks(changedFiles: readonly string[]): AffectedStack[] {
    const affected: AffectedStack[] = [];
    for (const file of changedFiles) {
        if (SHARED.some((pattern) => pattern.test(file))) {
            affected.push(...everywhere("."), ...EXAMPLES.flatMap(everywhere));
            continue;
        }
        const stackFile = /^stacks\/Pulumi\.([a-z]+)\.yaml$/.exec(file);
        if (stackFile?.[1] !== undefined) {
            affected.push({ workDir: ".", stack: stackFile[1], environment: stackFile[1] });
            continue;
        }
        const example = EXAMPLES.find((dir) => file.startsWith(`${dir}/`));
        if (example !== undefined && !file.endsWith(".test.ts")) {
            const exampleStack = /Pulumi\.([a-z]+)\.yaml$/.exec(file);
            affected.push(
                ...(exampleStack?.[1] !== undefined
                    ? [{ workDir: example, stack: exampleStack[1], environment: exampleStack[1] }]
                    : everywhere(example)),
            );
        }
    }
    const seen = new Set<string>();
    return affected.filter((s) => {
        const key = `${s.workDir}#${s.stack}`;
        return seen.has(key) ? false : (seen.add(key), true);
    });
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) {
    const [base, head = "HEAD"] = process.argv.slice(2);
    if (base === undefined) {
        console.error("usage: node scripts/affected-stacks.ts <base-ref> [head-ref]");
        process.exit(2);
    }
    const changed = execFileSync("git", ["diff", "--name-only", `${base}...${head}`], { encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
    console.log(JSON.stringify(affectedStacks(changed)));
}
