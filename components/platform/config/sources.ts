/**
 * The `sources` config section: where every upstream artefact comes from (components/platform/versions.ts
 * has the defaults), each pointable at a company mirror.
 */
import { imagePin } from "../../shared/image.ts";
import { DEFAULT_SOURCES, type UpstreamSources } from "../versions.ts";
import { type Field, type ValueOf, field, section } from "./schema.ts";

/** An http(s) URL, or with `allowDirectory` an absolute directory of a mirror. */
function url(doc: string, key: keyof UpstreamSources, allowDirectory = false): Field<string> {
    const fallback = DEFAULT_SOURCES[key] as string;
    return field(doc, fallback, (problems, path, value) => {
        const ok =
            typeof value === "string" &&
            ((/^https?:\/\//.test(value) && URL.canParse(value)) || (allowDirectory && value.startsWith("/")));
        if (!ok) {
            problems.add(
                path,
                allowDirectory
                    ? "must be an http(s) URL or an absolute directory of a mirror"
                    : "must be an http(s) URL",
                value,
            );
        }
        return value as string;
    });
}

function registry<T extends string | undefined>(doc: string, fallback: T): Field<T> {
    return field(doc, fallback, (problems, path, value) => {
        if (
            value !== undefined &&
            (typeof value !== "string" || !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/.test(value))
        ) {
            problems.add(path, 'must be an image registry path such as "registry.corp.example/istio"', value);
        }
        return value as T;
    });
}

/** An image of the platform's own pods, pinned by tag or digest (e.g. a company mirror's copy). */
function pinnedImage(doc: string, key: "schedulerImage" | "retentionJobImage"): Field<string> {
    return field(doc, DEFAULT_SOURCES[key], (problems, path, image) => {
        const pin = typeof image === "string" ? imagePin(image) : undefined;
        if (pin === undefined || pin.kind === "refused") {
            problems.add(
                path,
                `${pin?.reason ?? "must be an image reference"}, e.g. "registry.corp.example/${DEFAULT_SOURCES[key].split("/").pop() ?? ""}"`,
                image,
            );
        }
        return image as string;
    });
}

export const SOURCES_SCHEMA = section("Upstream sources, each pointable at a company mirror for air-gapped installs", {
    istioChartRepository: url("Helm repository of Istio's charts (base, istiod, cni, gateway)", "istioChartRepository"),
    istioImageHub: registry("registry (hub) of Istio's images", DEFAULT_SOURCES.istioImageHub),
    knativeManifestBaseUrl: url(
        "base of Knative's release manifests, laid out as GitHub releases (`<base>/<org>/<repo>/releases/download/knative-v<version>/<file>`); an http(s) URL or an absolute directory",
        "knativeManifestBaseUrl",
        true,
    ),
    knativeImageRegistry: registry<string | undefined>(
        "registry Knative's images are pulled from, same digests; unset: the release manifests' own",
        DEFAULT_SOURCES.knativeImageRegistry,
    ),
    prometheusChartRepository: url("Helm repository of kube-prometheus-stack", "prometheusChartRepository"),
    elasticChartRepository: url("Helm repository of the ECK operator", "elasticChartRepository"),
    fluentChartRepository: url("Helm repository of Fluent Bit", "fluentChartRepository"),
    kialiChartRepository: url("Helm repository of Kiali", "kialiChartRepository"),
    schedulerImage: pinnedImage("the Node.js image that runs the warm-capacity scheduler's code", "schedulerImage"),
    retentionJobImage: pinnedImage(
        "the curl image of the Job that sets the logs' retention through Elasticsearch's API",
        "retentionJobImage",
    ),
});

export type SourcesConfig = ValueOf<typeof SOURCES_SCHEMA.fields> & UpstreamSources;
