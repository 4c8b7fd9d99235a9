/**
 * Every upstream version and source the platform installs, in one place.
 *
 * Knative ships its releases together and supports upgrading one minor
 * version at a time: move Serving, net-istio, Eventing and eventing-kafka to
 * the next minor together, `pulumi up` every environment, then the next.
 * net-istio names the Istio it is tested with (its hack/ scripts); Istio moves
 * with it.
 */
export const VERSIONS = {
    /** Istio charts base, istiod and gateway (net-istio knative-v1.22 is tested against 1.29.2). */
    istio: "1.29.2",
    /** ≥ 1.21: min-scale patched on a live Revision reaches its autoscaler (scheduled warm capacity relies on it). */
    knativeServing: "1.22.1",
    netIstio: "1.22.0",
    knativeEventing: "1.22.2",
    eventingKafka: "1.22.0",
    /** Prometheus Operator, Prometheus and Grafana. */
    kubePrometheusStack: "67.8.0",
    /** Elastic Cloud on Kubernetes operator, and the Elastic Stack it runs. */
    eckOperator: "2.16.0",
    elasticStack: "8.17.0",
    /** Fluent Bit's chart (Fluent Bit 3.1). */
    fluentBit: "0.47.0",
    kiali: "2.4.0",
} as const;

/** Where upstream artefacts come from; each can be pointed at a company mirror per stack. */
export interface UpstreamSources {
    /** Helm repository of Istio's charts. */
    istioChartRepository: string;
    /** Registry (hub) of Istio's images. */
    istioImageHub: string;
    /**
     * Base of Knative's release manifests. Files are read from
     * `<base>/<org>/<repo>/releases/download/knative-v<version>/<file>`, the
     * layout of GitHub releases; a mirror (an http(s) URL or an absolute local
     * directory) reproduces it.
     */
    knativeManifestBaseUrl: string;
    /** Registry Knative's images are pulled from; unset keeps the digests of the release manifests' registry. */
    knativeImageRegistry: string | undefined;
    /** Helm repository of kube-prometheus-stack. */
    prometheusChartRepository: string;
    /** Helm repository of the ECK operator. */
    elasticChartRepository: string;
    /** Helm repository of Fluent Bit. */
    fluentChartRepository: string;
    /** Helm repository of Kiali. */
    kialiChartRepository: string;
    /** The Node.js image that runs the warm-capacity scheduler's code. */
    schedulerImage: string;
}

export const DEFAULT_SOURCES: Readonly<UpstreamSources> = {
    istioChartRepository: "https://istio-release.storage.googleapis.com/charts",
    istioImageHub: "docker.io/istio",
    knativeManifestBaseUrl: "https://github.com",
    knativeImageRegistry: undefined,
    prometheusChartRepository: "https://prometheus-community.github.io/helm-charts",
    elasticChartRepository: "https://helm.elastic.co",
    fluentChartRepository: "https://fluent.github.io/helm-charts",
    kialiChartRepository: "https://kiali.org/helm-charts",
    schedulerImage: "docker.io/library/node:24.21.0-alpine",
};

/** The registry Knative's release manifests reference. */
export const KNATIVE_RELEASE_REGISTRY = "gcr.io/knative-releases";

/** A Knative release manifest: which repository, version and file. */
export interface KnativeManifest {
    repository:
        | "knative/serving"
        | "knative/eventing"
        | "knative-extensions/net-istio"
        | "knative-extensions/eventing-kafka-broker";
    version: string;
    file: string;
}

/** The manifest's location under a base URL or mirror directory. */
export function manifestUrl(base: string, manifest: KnativeManifest): string {
    return `${base.replace(/\/+$/, "")}/${manifest.repository}/releases/download/knative-v${manifest.version}/${manifest.file}`;
}

/** The manifests each layer installs, in order. */
export const MANIFESTS = {
    servingCrds: { repository: "knative/serving", version: VERSIONS.knativeServing, file: "serving-crds.yaml" },
    servingCore: { repository: "knative/serving", version: VERSIONS.knativeServing, file: "serving-core.yaml" },
    // The HPA autoscaler class: without it, revisions with the cpu or memory metric never become ready.
    servingHpa: { repository: "knative/serving", version: VERSIONS.knativeServing, file: "serving-hpa.yaml" },
    netIstio: { repository: "knative-extensions/net-istio", version: VERSIONS.netIstio, file: "net-istio.yaml" },
    eventingCrds: { repository: "knative/eventing", version: VERSIONS.knativeEventing, file: "eventing-crds.yaml" },
    eventingCore: { repository: "knative/eventing", version: VERSIONS.knativeEventing, file: "eventing-core.yaml" },
    inMemoryChannel: {
        repository: "knative/eventing",
        version: VERSIONS.knativeEventing,
        file: "in-memory-channel.yaml",
    },
    mtChannelBroker: {
        repository: "knative/eventing",
        version: VERSIONS.knativeEventing,
        file: "mt-channel-broker.yaml",
    },
    kafkaController: {
        repository: "knative-extensions/eventing-kafka-broker",
        version: VERSIONS.eventingKafka,
        file: "eventing-kafka-controller.yaml",
    },
    kafkaBroker: {
        repository: "knative-extensions/eventing-kafka-broker",
        version: VERSIONS.eventingKafka,
        file: "eventing-kafka-broker.yaml",
    },
    kafkaSource: {
        repository: "knative-extensions/eventing-kafka-broker",
        version: VERSIONS.eventingKafka,
        file: "eventing-kafka-source.yaml",
    },
} as const satisfies Record<string, KnativeManifest>;
