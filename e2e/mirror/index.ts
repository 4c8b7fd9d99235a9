/**
 * Upstream's real artefacts, served as a company mirror serves them: the pinned Helm charts as
 * Helm repositories on loopback, and Knative's release manifests in a directory laid out as
 * GitHub releases (`sources.knativeManifestBaseUrl` accepts a directory). They are read from the
 * shared test data (`../shared/mirror/`, whose SOURCES.md names each one's repository, tag and
 * commit; `SERVERLESS_PLATFORM_UPSTREAM_MIRROR` points elsewhere). The one artefact with no real
 * copy here, eventing-kafka-broker's data plane, is a stand-in (kafka-data-plane.ts).
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { spawnSync } from "node:child_process";
import { dirname, isAbsolute, join, normalize, resolve } from "node:path";
import { stringify } from "yaml";
import {
    KNATIVE_RELEASES,
    type UpstreamSources,
    knativeManifests,
    manifestUrl,
} from "../../components/platform/versions.ts";
import { kafkaDataPlaneStandIn } from "./kafka-data-plane.ts";

/**
 * The shared copy of upstream's artefacts (charts/<repository>/ and knative/<org>/<repo>/releases/…):
 * `SERVERLESS_PLATFORM_UPSTREAM_MIRROR`, or `shared/mirror` beside this checkout, or beside the checkout it was
 * cloned from (CI clones into a temporary directory, away from the shared test data).
 */
export const UPSTREAM_MIRROR = process.env.SERVERLESS_PLATFORM_UPSTREAM_MIRROR ?? besideCheckout("shared/mirror");

function besideCheckout(path: string): string {
    const checkout = resolve(import.meta.dirname, "../..");
    const origin = spawnSync("git", ["-C", checkout, "remote", "get-url", "origin"], {
        encoding: "utf8",
    }).stdout.trim();
    const checkouts = isAbsolute(origin) ? [checkout, origin] : [checkout];
    const found = checkouts.map((dir) => resolve(dir, "..", path)).find((candidate) => existsSync(candidate));
    return found ?? resolve(checkout, "..", path);
}

/** Knative's manifests under `dir`: the real files linked in place, the data plane's stand-in written. */
function writeKnativeManifests(dir: string): void {
    for (const release of Object.values(KNATIVE_RELEASES)) {
        for (const manifest of Object.values(knativeManifests(release))) {
            const path = manifestUrl(dir, manifest);
            mkdirSync(dirname(path), { recursive: true });
            const upstream = manifestUrl(join(UPSTREAM_MIRROR, "knative"), manifest);
            if (existsSync(upstream)) symlinkSync(upstream, path);
            else if (manifest.file === "eventing-kafka-broker.yaml")
                writeFileSync(
                    path,
                    kafkaDataPlaneStandIn(manifest.version)
                        .map((o) => stringify(o))
                        .join("---\n"),
                );
            else throw new Error(`the upstream mirror ${UPSTREAM_MIRROR} has no ${upstream}`);
        }
    }
}

/** A running mirror: the `sources` a stack points at it, and how many requests it answered per path. */
export interface Mirror {
    sources: Partial<UpstreamSources>;
    requests: Map<string, number>;
    stop(): Promise<void>;
}

/** Lays Knative's manifests out under `dir` and serves the charts on loopback. */
export async function startMirror(dir: string): Promise<Mirror> {
    const charts = join(UPSTREAM_MIRROR, "charts");
    if (!existsSync(charts))
        throw new Error(
            `no upstream mirror at ${UPSTREAM_MIRROR}: the end-to-end tests need the shared copy of the pinned charts and Knative manifests (set SERVERLESS_PLATFORM_UPSTREAM_MIRROR)`,
        );
    writeKnativeManifests(join(dir, "knative"));
    const requests = new Map<string, number>();
    const server: Server = createServer((request, response) => {
        const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "http://mirror").pathname));
        requests.set(path, (requests.get(path) ?? 0) + 1);
        try {
            response.end(readFileSync(join(charts, path)));
        } catch {
            response.statusCode = 404;
            response.end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const repository = (name: string) => `http://127.0.0.1:${String(port)}/${name}`;
    return {
        sources: {
            istioChartRepository: repository("istio"),
            prometheusChartRepository: repository("prometheus"),
            elasticChartRepository: repository("elastic"),
            fluentChartRepository: repository("fluent"),
            kialiChartRepository: repository("kiali"),
            knativeManifestBaseUrl: join(dir, "knative"),
        },
        requests,
        stop: () =>
            new Promise((resolve) => {
                server.close(() => {
                    resolve();
                });
            }),
    };
}
