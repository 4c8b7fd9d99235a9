/**
 * Turns a failed engine run into a short message. The engine's own output has already been
 * shown; what is added here is the one thing a user needs most: when this machine cannot reach
 * an upstream source (air-gapped, offline), which URL, and which `sources.*` key points it at a
 * mirror; when another run holds the stack's lock, who holds it and how to clear it if that run
 * is dead; when the cluster stopped answering, which one and how to resume; when Ctrl-C stopped it,
 * that nothing is left to clear; when a killed run left a file backend's sidecar empty, what to delete.
 */
import { DEFAULT_SOURCES } from "../components/platform/versions.ts";

const MIRRORS_SECTION = 'docs/platform-team.md, section "Versions, upgrades and mirrors"';

/** The source keys whose value is a URL the provider fetches from, with the URL in effect. */
function sourceUrls(stackConfig: Record<string, unknown>): [key: string, url: string][] {
    const configured = (stackConfig["serverless-platform:sources"] ?? {}) as Record<string, unknown>;
    return Object.entries({ ...DEFAULT_SOURCES, ...configured }).filter(
        (entry): entry is [string, string] => typeof entry[1] === "string" && /^https?:\/\//.test(entry[1]),
    );
}

/** What the provider says when a chart or manifest URL cannot be fetched. */
const UNREACHABLE = /no such host|dial tcp|connection refused|i\/o timeout|fetching YAML over network|failed to fetch/i;

/** What the CLI prints when Ctrl-C (SIGINT) stops a run: it cancels, letting the steps in flight end. */
const STOPPED_BY_CTRL_C = /\^C received; cancelling/;
/** What it prints on a second Ctrl-C: it exits at once, as if killed. */
const TERMINATED_BY_CTRL_C = /\^C received; terminating/;

/** The file backend's refusal while another run holds the stack's lock, and its lines naming each holder. */
const LOCKED = /the stack is currently locked by \d+ lock\(s\)/;
const LOCK_HOLDER = /^\s*(\S+): created by (\S+) \(pid (\d+)\) at (\S+)$/gm;

/**
 * What every command on a stack says once a run killed while a file backend rewrote a state file's `.attrs`
 * sidecar left it empty (see engineBackendUrl): the backend reads the sidecar before the state.
 */
const EMPTY_SIDECAR = /failed to load checkpoint: EOF\b/;

/**
 * A call of the provider to the Kubernetes API (`/api/…`, `/apis/…`, discovery's `/api?…`, `/openapi/…`,
 * `/version`), and the API server it went to.
 */
const KUBERNETES_API_CALL = /(https?:\/\/[^/\s"]+)\/(?:apis?|openapi|version)\b/;
/**
 * How a call ends when its server goes away after taking it (`unexpected EOF` when the API server died while
 * it held the request); a server never reached reads as {@link UNREACHABLE}.
 */
const CUT_OFF = /connection reset by peer|unexpected EOF|client connection lost/i;

/**
 * A message for a failed run: that Ctrl-C stopped it, who holds the stack's lock, which cluster stopped
 * answering, or the mirror advice when an upstream URL could not be fetched.
 */
export function explainFailure(error: unknown, stackConfig: Record<string, unknown>, stack = "<stack>"): string {
    const text = error instanceof Error ? error.message : String(error);
    if (TERMINATED_BY_CTRL_C.test(text)) {
        return (
            `The run of stack ${stack} was stopped at once (Ctrl-C twice), as if killed: its lock and operations in ` +
            `flight may remain. Run again with --refresh, which says what to clear first: npm run up -- ${stack} --refresh`
        );
    }
    if (STOPPED_BY_CTRL_C.test(text)) {
        return (
            `The run of stack ${stack} was stopped (Ctrl-C): the engine started nothing new, let the steps in flight ` +
            "end (or fail, cancelled), saved the state and released the lock. Nothing needs clearing; run again to " +
            `finish what it had not done: npm run up -- ${stack}`
        );
    }
    if (LOCKED.test(text)) {
        // The Automation API repeats the engine's stderr in its error: each holder once.
        const holders = [...text.matchAll(LOCK_HOLDER)].map(
            ([, file, who, pid, when]) => `  ${who ?? ""}, process ${pid ?? ""}, since ${when ?? ""} (${file ?? ""})`,
        );
        return (
            `Another run of stack ${stack} holds its lock:\n${[...new Set(holders)].join("\n")}\n` +
            "If it is still running, wait for it to end. If it is not (killed, or its machine gone), clear the stale " +
            `lock with \`pulumi cancel --stack ${stack}\` on the same backend (or delete the lock file above), then ` +
            `run again with --refresh, so that the state is read back from the cluster first: npm run up -- ${stack} --refresh`
        );
    }
    if (EMPTY_SIDECAR.test(text)) {
        return (
            `The state of stack ${stack} cannot be read: a run killed while the file backend rewrote the metadata ` +
            `sidecar beside its state file (.pulumi/stacks/<project>/${stack}.json.attrs) left that sidecar empty; ` +
            "the state file itself is whole. Delete the empty sidecars in the backend's directory (PULUMI_BACKEND_URL, " +
            "by default .pulumi-state), which the backend can do without: `find <directory>/.pulumi -name '*.attrs' " +
            `-empty -delete\`. Then run again with --refresh: npm run up -- ${stack} --refresh`
        );
    }
    const cluster = KUBERNETES_API_CALL.exec(text)?.[1];
    if (cluster !== undefined && (UNREACHABLE.test(text) || CUT_OFF.test(text))) {
        return (
            `The cluster of stack ${stack} stopped answering at ${cluster} during the run; what the run did until ` +
            "then is in the cluster and its state. Once the cluster answers again (`npm run cluster -- start` for " +
            `the local one), run again with --refresh, which reads it back first: npm run up -- ${stack} --refresh`
        );
    }
    if (UNREACHABLE.test(text)) {
        for (const [url] of text.matchAll(/https?:\/\/[^\s"'`)]+/g)) {
            const source = sourceUrls(stackConfig).find(([, prefix]) => url.startsWith(prefix));
            if (source !== undefined) {
                return (
                    `The platform could not fetch ${url} from this machine.\n` +
                    `Point serverless-platform:sources.${source[0]} (now ${source[1]}) at a mirror you can reach; ` +
                    `see ${MIRRORS_SECTION}.`
                );
            }
        }
    }
    return "The operation failed; the engine's output above says why.";
}

/** What to do when the stack's last run was interrupted with operations in flight. */
export function explainPendingOperations(stack: string, pending: { type: string; urn: string }[]): string {
    const lines = pending.map(({ type, urn }) => {
        // urn:pulumi:<stack>::<project>::<parent types$>type::name
        const [, , resourceType, name] = urn.split("::").map((part) => part.split("$").at(-1));
        return `  ${type} ${resourceType ?? ""} ${name ?? urn}`;
    });
    return (
        `The last run of stack ${stack} was interrupted with ${String(pending.length)} operation(s) in flight:\n` +
        `${lines.join("\n")}\n` +
        "The cluster may hold what they did while the state does not record it. Run again with --refresh: " +
        `npm run up -- ${stack} --refresh reads every object back from the cluster and drops the operations in flight, ` +
        "and the run that follows takes over any object they had made instead of making it twice."
    );
}
