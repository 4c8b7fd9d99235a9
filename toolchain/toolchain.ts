/**
 * The local toolchain as the engine driver and the local cluster see it: `build.sh` builds
 * what is missing (from the Go module proxy, into the user's cache) and prints where each piece
 * is; this module runs it and reads that answer. Progress goes to the terminal.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** What `build.sh` reports for each group it builds (`name=path` lines). */
const PIECES = {
    engine: ["pulumi", "pulumiRoot", "kubernetesProvider", "kubernetesProviderVersion"],
    cluster: [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
        "kwokStages",
        "kubernetesVersion",
        "knativeServingController",
        "knativeServingAutoscaler",
        "knativeServingActivator",
        "knativeServingWebhook",
        "eckOperator",
        "prometheusOperator",
        "prometheusConfigReloader",
        "istioInjector",
    ],
    judge: ["knativeJudge", "prometheusTargets"],
} as const;
type Pieces = { [Group in keyof typeof PIECES]: Record<(typeof PIECES)[Group][number], string> };
export type EnginePieces = Pieces["engine"];
export type ClusterPieces = Pieces["cluster"];

const BUILD_SCRIPT = fileURLToPath(new URL("./build.sh", import.meta.url));

/** Builds (once) and locates one group of the toolchain. Throws with build.sh's own message on failure. */
export function toolchain<Group extends keyof Pieces>(group: Group): Pieces[Group] {
    let answer: string;
    try {
        answer = execFileSync("bash", [BUILD_SCRIPT, group], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
        });
    } catch {
        // build.sh has already said which piece failed and why, on stderr.
        throw new Error(`the local toolchain's ${group} could not be built (see the toolchain: lines above)`);
    }
    const reported = new Map(
        answer
            .split("\n")
            .filter((line) => line.includes("="))
            .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const missing = PIECES[group].filter((key) => !reported.has(key));
    if (missing.length > 0) throw new Error(`toolchain/build.sh ${group} did not report ${missing.join(", ")}`);
    return Object.fromEntries(reported) as Pieces[Group];
}
