/**
 * Knative Serving's own validation as a function: sends objects to the toolchain's
 * knative-judge (toolchain/knative-judge, built from knative.dev/serving) and returns its
 * verdict on each, as Knative's webhook and route reconciler would give it.
 */
import { spawn } from "node:child_process";
import { toolchain } from "../toolchain/toolchain.ts";

export interface Verdict {
    accepted: boolean;
    errors: string[];
}

/** Judges every object in one run of the judge; the answer maps each id to its verdict. */
export function judge(objects: ReadonlyMap<string, unknown>): Promise<Map<string, Verdict>> {
    const { knativeJudge } = toolchain("judge");
    return new Promise((resolve, reject) => {
        const child = spawn(knativeJudge, [], { stdio: ["pipe", "pipe", "inherit"] });
        let output = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => {
            output += chunk;
        });
        child.on("error", reject);
        child.on("close", (code) => {
            if (code !== 0) {
                reject(new Error(`knative-judge exited with ${String(code)}`));
                return;
            }
            const verdicts = new Map<string, Verdict>();
            for (const line of output.split("\n").filter((l) => l !== "")) {
                // The judge writes "errors": null when there are none.
                const { id, accepted, errors } = JSON.parse(line) as {
                    id: string;
                    accepted: boolean;
                    errors: string[] | null;
                };
                verdicts.set(id, { accepted, errors: errors ?? [] });
            }
            resolve(verdicts);
        });
        for (const [id, object] of objects) child.stdin.write(`${JSON.stringify({ id, object })}\n`);
        child.stdin.end();
    });
}
