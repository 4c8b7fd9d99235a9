/**
 * The local mirror fixture: what a company mirror of the platform's upstream sources serves,
 * written by the tests and served on loopback. Knative's release manifests sit in a directory
 * laid out as GitHub releases (`sources.knativeManifestBaseUrl` accepts a directory); the Helm
 * charts are packaged and indexed as Helm repositories and served over HTTP, so the Kubernetes
 * provider resolves them from `sources.*ChartRepository` as it would from the real ones. The
 * stand-ins are described in knative.ts and charts.ts; no upstream file is copied.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { dirname, join, normalize } from "node:path";
import { stringify } from "yaml";
import { type UpstreamSources, manifestUrl } from "../../components/platform/versions.ts";
import { STAND_IN_CHARTS, type StandInChart } from "./charts.ts";
import { KNATIVE_MANIFESTS, knativeStandIn } from "./knative.ts";

function write(path: string, content: string): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
}

function writeChart(repositoryDir: string, chart: StandInChart): void {
    const dir = join(repositoryDir, "src", chart.name);
    write(
        join(dir, "Chart.yaml"),
        stringify({ apiVersion: "v2", name: chart.name, version: chart.version, appVersion: chart.version }),
    );
    write(join(dir, "values.yaml"), stringify(chart.values));
    for (const [file, template] of Object.entries(chart.templates)) write(join(dir, "templates", file), template);
    for (const [index, object] of (chart.crds ?? []).entries()) {
        write(join(dir, "crds", `crd-${String(index)}.yaml`), stringify(object));
    }
    execFileSync("tar", [
        "-czf",
        join(repositoryDir, `${chart.name}-${chart.version}.tgz`),
        "-C",
        dirname(dir),
        chart.name,
    ]);
}

/** Writes the mirror's files under `dir`. */
export function writeMirror(dir: string): void {
    for (const manifest of KNATIVE_MANIFESTS) {
        const objects = knativeStandIn(manifest);
        write(manifestUrl(join(dir, "knative"), manifest), objects.map((object) => stringify(object)).join("---\n"));
    }
    const repositories = new Map<string, StandInChart[]>();
    for (const chart of STAND_IN_CHARTS) {
        repositories.set(chart.repository, [...(repositories.get(chart.repository) ?? []), chart]);
    }
    for (const [repository, charts] of repositories) {
        const repositoryDir = join(dir, "charts", repository);
        for (const chart of charts) writeChart(repositoryDir, chart);
        const entries = Object.fromEntries(
            charts.map((chart) => [
                chart.name,
                [
                    {
                        apiVersion: "v2",
                        name: chart.name,
                        version: chart.version,
                        appVersion: chart.version,
                        urls: [`${chart.name}-${chart.version}.tgz`],
                    },
                ],
            ]),
        );
        write(join(repositoryDir, "index.yaml"), stringify({ apiVersion: "v1", entries }));
    }
}

/** A running mirror: the `sources` a stack points at it, and how many requests it answered per path. */
export interface Mirror {
    sources: Partial<UpstreamSources>;
    requests: Map<string, number>;
    stop(): Promise<void>;
}

/** Writes the mirror under `dir` and serves its charts on loopback. */
export async function startMirror(dir: string): Promise<Mirror> {
    writeMirror(dir);
    const requests = new Map<string, number>();
    const server: Server = createServer((request, response) => {
        const path = normalize(decodeURIComponent(new URL(request.url ?? "/", "http://mirror").pathname));
        requests.set(path, (requests.get(path) ?? 0) + 1);
        try {
            response.end(readFileSync(join(dir, "charts", path)));
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
