/**
 * Turns a failed engine run into a short message. The engine's own output has already been
 * shown; what is added here is the one thing a user needs most when this machine cannot reach
 * an upstream source (air-gapped, offline): which URL, and which `sources.*` key points it at a
 * mirror.
 */
import { DEFAULT_SOURCES } from "../components/platform/versions.ts";

const MIRRORS_SECTION = 'README.md, section "Versions, upgrades and mirrors"';

/** The source keys whose value is a URL the provider fetches from, with the URL in effect. */
function sourceUrls(stackConfig: Record<string, unknown>): [key: string, url: string][] {
    const configured = (stackConfig["serverless-platform:sources"] ?? {}) as Record<string, unknown>;
    return Object.entries({ ...DEFAULT_SOURCES, ...configured }).filter(
        (entry): entry is [string, string] => typeof entry[1] === "string" && /^https?:\/\//.test(entry[1]),
    );
}

/** What the provider says when a chart or manifest URL cannot be fetched. */
const UNREACHABLE = /no such host|dial tcp|connection refused|i\/o timeout|fetching YAML over network|failed to fetch/i;

/** A message for a failed run: the mirror advice when an upstream URL could not be fetched. */
export function explainFailure(error: unknown, stackConfig: Record<string, unknown>): string {
    const text = error instanceof Error ? error.message : String(error);
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
