/**
 * Every upstream version and source the platform installs, in one place.
 * Which combinations are supported together is compatibility.ts.
 */
import { imageLocation } from "../shared/image.ts";

/** The Knative minors the platform can install. */
export type KnativeMinor = "1.22" | "1.23";

/**
 * One Knative release, everything the platform knows of it in one record: Serving, net-istio, Eventing and
 * eventing-kafka-broker ship together.
 */
export interface KnativeRelease {
    serving: string;
    netIstio: string;
    eventing: string;
    eventingKafka: string;
    /** The oldest Kubernetes minor it runs on (knative.dev/pkg version/version.go DefaultKubernetesMinVersion). */
    minimumKubernetes: string;
    /**
     * The Istio minors net-istio's own CI ran this release against. `complete: false`: read before the release's
     * last Istio bump (the snapshot readable offline), so a newer Istio is unchecked, not refused, until the release
     * notes are read (compatibility.ts).
     */
    netIstioTestedIstio: { tested: readonly string[]; complete: boolean };
    /**
     * The `knative.dev/serving` Go module of this release, where the toolchain builds Knative's control plane from
     * it (toolchain/versions.env `KNATIVE_SERVING_MODULE_VERSION`, checked against it by a test).
     */
    servingModule?: string;
}

/**
 * The Knative releases the platform can install, by minor. A stack installs the newest unless its config holds it
 * back (`knative.version`), and moves one minor at a time: Knative supports no other upgrade. Each is ≥ 1.21:
 * min-scale patched on a live Revision reaches its autoscaler (scheduled warm capacity relies on it).
 */
export const KNATIVE_RELEASES: Readonly<Record<KnativeMinor, KnativeRelease>> = {
    "1.22": {
        serving: "1.22.1",
        netIstio: "1.22.0",
        eventing: "1.22.2",
        eventingKafka: "1.22.0",
        minimumKubernetes: "1.34",
        netIstioTestedIstio: { tested: ["1.29"], complete: true },
    },
    // knative/serving v0.50.0 (2026-07-29); the other repositories release the same day.
    "1.23": {
        serving: "1.23.0",
        netIstio: "1.23.0",
        eventing: "1.23.0",
        eventingKafka: "1.23.0",
        minimumKubernetes: "1.34",
        netIstioTestedIstio: { tested: ["1.29"], complete: false },
        servingModule: "v0.50.0",
    },
};

/** The minors, oldest first. */
export const KNATIVE_MINORS = Object.keys(KNATIVE_RELEASES) as KnativeMinor[];

/** The Knative a stack installs unless its config says otherwise: the newest. */
export const DEFAULT_KNATIVE: KnativeMinor = "1.23";

export const VERSIONS = {
    /**
     * Istio's charts base, istiod, cni and gateway: 1.30, supported on Kubernetes 1.32-1.36, one minor
     * after the 1.29 that reached its end of life on 2026-10-15 (compatibility.ts has the rows);
     * 1.30.8 (istio.io/client-go's tag, 2026-10-21) carries the 1.30 line's security fixes.
     */
    istio: "1.30.8",
    /** Prometheus Operator, Prometheus and Grafana (Grafana's subchart comes from grafana-community). */
    kubePrometheusStack: "88.5.3",
    /** Elastic Cloud on Kubernetes operator: Kubernetes 1.32-1.36, Elastic Stack 8 and 9. */
    eckOperator: "3.5.0",
    /**
     * The Elastic Stack ECK runs. 8.19, the last 8.x minor (supported to 2027-07-15), not 9.x: from
     * an installed 8.17 it is a minor upgrade, and Elastic's path to 9 starts from 8.19 with the
     * Upgrade Assistant anyway; 8.19.18 is the newest 8.19 that ECK 3.5.0's release tests run.
     */
    elasticStack: "8.19.18",
    /** Fluent Bit's chart (Fluent Bit 5.1.1). */
    fluentBit: "0.58.1",
    /** Kiali server's chart: Kiali 2.29 (2026-07-13), tested against the Istio releases supported then. */
    kiali: "2.29.0",
} as const;

/**
 * Every version a stack installs (the `versions` output app stacks read): the pins, its Knative
 * release's, and its Elastic Stack (the pin unless `monitoring.logs.version` holds it back).
 */
export function stackVersionsOf(
    release: KnativeRelease,
    elasticStack: string = VERSIONS.elasticStack,
): Record<string, string> {
    return {
        ...VERSIONS,
        elasticStack,
        knativeServing: release.serving,
        netIstio: release.netIstio,
        knativeEventing: release.eventing,
        eventingKafka: release.eventingKafka,
    };
}

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
    /** The curl image of the Job that sets the logs' retention through Elasticsearch's API. */
    retentionJobImage: string;
}

/** What every platform component that installs upstream artefacts takes: where they come from. */
export interface SourcesArgs {
    /** Where the component's upstream artefacts come from (the stack's `sources`); any left out is the default. @default DEFAULT_SOURCES */
    sources?: Partial<UpstreamSources>;
}

/** A component's sources: what it was given over the defaults. */
export function sourcesOf(args: SourcesArgs): UpstreamSources {
    return { ...DEFAULT_SOURCES, ...args.sources };
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
    retentionJobImage: "docker.io/curlimages/curl:8.11.1",
};

/** The registry Knative's release manifests reference. */
export const KNATIVE_RELEASE_REGISTRY = "gcr.io/knative-releases";

/**
 * Where the images of everything the platform installs come from, at the pinned versions: the
 * sources' defaults, and what the charts' own values name (kube-prometheus-stack 88.5.3 and its
 * Grafana, kube-state-metrics and node-exporter, eck-operator 3.5.0, fluent-bit 0.58.1,
 * kiali-server 2.29.0). The policy pack allows these and the registries a stack's policy config adds.
 */
export const UPSTREAM_IMAGE_REGISTRIES: readonly string[] = [
    DEFAULT_SOURCES.istioImageHub,
    KNATIVE_RELEASE_REGISTRY,
    ...[DEFAULT_SOURCES.schedulerImage, DEFAULT_SOURCES.retentionJobImage].flatMap(
        (image) => imageLocation(image) ?? [],
    ),
    "quay.io/prometheus",
    "quay.io/prometheus-operator",
    "registry.k8s.io/kube-state-metrics",
    "docker.io/grafana",
    "quay.io/kiwigrid",
    "docker.io/library/busybox",
    "docker.elastic.co",
    "cr.fluentbit.io/fluent",
    "quay.io/kiali",
];

/** A Knative release manifest: which repository, version and file. */
export interface KnativeManifest {
    repository:
        | "knative/serving"
        | "knative/eventing"
        | "knative-extensions/net-istio"
        | "knative-extensions/eventing-kafka-broker";
    version: string;
    file: string;
    /**
     * Whether it ships CRDs, which a CrdSet then applies and records by digest (`knative-manifests.ts`): known
     * before the manifest is read, so that a preview shows the set; a test checks it against the real manifests.
     */
    crds: boolean;
}

/** The manifest's location under a base URL or mirror directory. */
export function manifestUrl(base: string, manifest: KnativeManifest): string {
    return `${base.replace(/\/+$/, "")}/${manifest.repository}/releases/download/knative-v${manifest.version}/${manifest.file}`;
}

/** The manifests each layer installs, in order, for one Knative release. */
export function knativeManifests(release: KnativeRelease) {
    const serving = (file: string, crds: boolean) =>
        ({ repository: "knative/serving", version: release.serving, file, crds }) as const;
    const eventing = (file: string, crds: boolean) =>
        ({ repository: "knative/eventing", version: release.eventing, file, crds }) as const;
    const kafka = (file: string, crds: boolean) =>
        ({
            repository: "knative-extensions/eventing-kafka-broker",
            version: release.eventingKafka,
            file,
            crds,
        }) as const;
    return {
        servingCore: serving("serving-core.yaml", true),
        // The HPA autoscaler class: without it, revisions with the cpu or memory metric never become ready.
        servingHpa: serving("serving-hpa.yaml", false),
        netIstio: {
            repository: "knative-extensions/net-istio",
            version: release.netIstio,
            file: "net-istio.yaml",
            crds: false,
        } as const,
        eventingCore: eventing("eventing-core.yaml", true),
        inMemoryChannel: eventing("in-memory-channel.yaml", true),
        mtChannelBroker: eventing("mt-channel-broker.yaml", false),
        kafkaController: kafka("eventing-kafka-controller.yaml", true),
        kafkaBroker: kafka("eventing-kafka-broker.yaml", false),
        kafkaSource: kafka("eventing-kafka-source.yaml", false),
    } satisfies Record<string, KnativeManifest>;
}
