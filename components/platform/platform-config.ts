import * as pulumi from "@pulumi/pulumi";
import { ENVIRONMENTS, type Environment } from "../shared/environments.ts";
import { RULE_IDS, type RuleId } from "./compatibility.ts";
import { parseGoDuration } from "../shared/duration.ts";
import { imagePin } from "../shared/image.ts";
import { SYSTEM_NAMESPACES, isSystemNamespace } from "../shared/system-namespaces.ts";
import { isDns1123Label, isDns1123Subdomain } from "../shared/names.ts";
import { Problems } from "../shared/problems.ts";
import { parseQuantity } from "../shared/quantity.ts";
import type { KnativeLimits } from "../shared/knative-limits.ts";
import {
    DEFAULT_KNATIVE,
    DEFAULT_SOURCES,
    KNATIVE_RELEASES,
    type KnativeMinor,
    type UpstreamSources,
    VERSIONS,
} from "./versions.ts";

/** An app team's namespace. */
export interface AppNamespace {
    name: string;
    /** The identity-provider group whose members manage the namespace's Knative objects. */
    group: string;
    /** Whether the namespace gets a `default` Broker. */
    broker: boolean;
    /** ResourceQuota of the namespace. */
    quota: { cpu: string; memory: string; pods: number };
}

/** Istio settings. */
export interface IstioConfig {
    /** istiod replicas; above 1, spread across nodes with a PodDisruptionBudget. */
    replicas: number;
    /** Ingress gateway replicas, likewise. */
    gatewayReplicas: number;
    gatewayServiceType: "LoadBalancer" | "NodePort" | "ClusterIP";
    /** Mesh-wide mTLS mode. */
    mtls: "STRICT" | "PERMISSIVE";
    /** Extra Helm values merged over ours, per chart. */
    values: {
        base: Record<string, unknown>;
        istiod: Record<string, unknown>;
        cni: Record<string, unknown>;
        gateway: Record<string, unknown>;
    };
}

/** Knative Serving settings; they land in Knative's own ConfigMaps. */
export interface KnativeConfig extends KnativeLimits {
    /** The Knative release (minor) to install: one of KNATIVE_RELEASES, one minor above what is installed at most. */
    version: KnativeMinor;
    /** Replicas of Serving's and Eventing's control plane. */
    replicas: number;
    /** `config-autoscaler` `scale-to-zero-grace-period`. */
    scaleToZeroGracePeriod: string;
    /** `config-autoscaler` `stable-window`. */
    stableWindow: string;
    /** `config-autoscaler` `container-concurrency-target-default`. */
    targetConcurrency: number;
    /** `config-deployment` `progress-deadline`. */
    progressDeadline: string;
}

/** Knative Eventing settings. */
export interface EventingConfig {
    /** `in-memory`: the MT channel broker on in-memory channels (dev); `kafka`: Knative's Kafka broker. */
    broker: "in-memory" | "kafka";
    /** The Kafka cluster the Kafka broker and Kafka sources use. */
    kafka: { bootstrapServers: string[]; replicationFactor: number; partitions: number } | undefined;
}

/** Monitoring settings: metrics, logs, the mesh's service graph, and which UIs are exposed. */
export interface MonitoringConfig {
    metrics: {
        enabled: boolean;
        /** Prometheus replicas. */
        replicas: number;
        /** How long Prometheus keeps samples ("7d", "15d"). */
        retention: string;
        /** A PersistentVolumeClaim per Prometheus replica; without it, data lives as long as the pod. */
        persistent: boolean;
        storageSize: string;
        storageClass: string | undefined;
        /** Grafana's `admin` password: the secret config key `grafanaAdminPassword`. */
        grafanaAdminPassword: pulumi.Output<string>;
    };
    logs: {
        enabled: boolean;
        /** An Elasticsearch to ship logs to instead of the platform's own ("https://es.corp.example:9200"). */
        externalElasticsearch: string | undefined;
        /** Elasticsearch nodes (ECK); 3 or more for HA. */
        nodes: number;
        persistent: boolean;
        storageSize: string;
        storageClass: string | undefined;
        /** Days container logs are kept. */
        retentionDays: number;
        /**
         * The Elastic Stack version of the platform's Elasticsearch and Kibana: the pin unless the
         * stack holds it back. A major upgrade is refused unless the stack accepts
         * `elasticsearch-major-upgrade` (compatibility.ts).
         */
        version: string;
        /** Fluent Bit's password on the platform's Elasticsearch: the secret config key `logShipperPassword`. */
        shipperPassword: pulumi.Output<string>;
    };
    kiali: { enabled: boolean };
    /**
     * UIs routed through the Istio ingress gateway at `https://<ui>.<domain>`; none by default. Only
     * over TLS: `tlsSecret` names the certificate's Secret in istio-system (a Gateway credentialName).
     */
    expose: { grafana: boolean; kibana: boolean; kiali: boolean; tlsSecret: string | undefined };
}

/** The platform stack's configuration, typed and checked. */
export interface PlatformConfig {
    environment: Environment;
    /** Domain public Knative Services are served on (`<service>.<namespace>.<domain>`). */
    domain: string;
    /**
     * Which cluster, from the Kubernetes provider's own config keys: `kubernetes:kubeconfig` (a
     * secret) or `kubernetes:context`; one of them is required.
     */
    kubernetes: { context: string | undefined; kubeconfig: pulumi.Output<string> | undefined };
    namespaces: AppNamespace[];
    istio: IstioConfig;
    knative: KnativeConfig;
    eventing: EventingConfig;
    monitoring: MonitoringConfig;
    sources: UpstreamSources;
    /**
     * Compatibility rules (compatibility.ts) this stack knowingly breaks: each accepted rule's
     * findings become a warning on every preview instead of a refusal.
     */
    compatibility: { accept: RuleId[] };
}

/** Defaults of every optional setting, in one place. */
export const PLATFORM_DEFAULTS = {
    namespace: { broker: true, quota: { cpu: "20", memory: "40Gi", pods: 200 } },
    istio: { replicas: 1, gatewayReplicas: 1, gatewayServiceType: "LoadBalancer", mtls: "STRICT" },
    knative: {
        version: DEFAULT_KNATIVE,
        replicas: 1,
        maxScaleLimit: 0,
        allowZeroInitialScale: false,
        containerConcurrencyMaxLimit: 1000,
        scaleToZeroGracePeriod: "30s",
        stableWindow: "60s",
        targetConcurrency: 100,
        progressDeadline: "600s",
    },
    eventing: { broker: "in-memory", kafka: { replicationFactor: 3, partitions: 10 } },
    monitoring: {
        metrics: { enabled: true, replicas: 1, retention: "7d", persistent: true, storageSize: "20Gi" },
        logs: {
            enabled: true,
            nodes: 1,
            persistent: true,
            storageSize: "10Gi",
            retentionDays: 7,
            version: VERSIONS.elasticStack,
        },
        kiali: { enabled: true },
        expose: { grafana: false, kibana: false, kiali: false },
    },
} as const;

/** Where the stack files are: `stackConfigDir` in Pulumi.yaml. */
export const STACK_CONFIG_DIR = "stacks";

/** How errors name the running stack and its file: `Stack "dev" (stacks/Pulumi.dev.yaml)`. */
export function stackLabel(): string {
    const stack = pulumi.getStack();
    return `Stack "${stack}" (${STACK_CONFIG_DIR}/Pulumi.${stack}.yaml)`;
}

/** The config keys this project reads, so that a typo is reported instead of ignored. */
export const CONFIG_KEYS = [
    "environment",
    "domain",
    "namespaces",
    "istio",
    "knative",
    "eventing",
    "monitoring",
    "sources",
    "compatibility",
    "grafanaAdminPassword",
    "logShipperPassword",
] as const;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$/;

type Json = Record<string, unknown>;

/**
 * Reads and checks the platform config of the current stack. `configuredKeys`
 * are the keys set in the stack file (without the project prefix); unknown
 * ones are an error, since a misspelt key would otherwise silently take its
 * default. Every problem is reported at once.
 */
export function readPlatformConfig(config: pulumi.Config, configuredKeys: readonly string[]): PlatformConfig {
    const problems = new Problems(stackLabel());
    for (const key of configuredKeys) {
        if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
            problems.add(key, `is not a known key; known keys: ${CONFIG_KEYS.join(", ")}`, key);
        }
    }
    // Required keys are read like the others, so that a missing one is reported with every other problem.
    const environment = config.get("environment");
    problems.oneOf("environment", environment, ENVIRONMENTS);
    const domain = config.get("domain") ?? "";
    if (!DOMAIN.test(domain)) {
        problems.add("domain", 'must be a lowercase DNS domain such as "dev.games.example.com"', config.get("domain"));
    }

    const kubernetesConfig = new pulumi.Config("kubernetes");
    const context = kubernetesConfig.get("context");
    const kubeconfig = kubernetesConfig.getSecret("kubeconfig");
    if (context !== undefined && kubeconfig !== undefined) {
        problems.addMessage("set kubernetes:context or kubernetes:kubeconfig, not both");
    }
    // Never the ambient kubeconfig's current context: whoever has prod selected would get dev installed there.
    if (context === undefined && kubeconfig === undefined) {
        problems.addMessage(
            "names no cluster: set kubernetes:context (a context of your kubeconfig) or kubernetes:kubeconfig " +
                "(with --secret); `npm run up -- <env>` deploys a stack that names neither to the local simulated cluster",
        );
    }

    const result: PlatformConfig = {
        environment: environment as Environment,
        domain,
        kubernetes: { context, kubeconfig },
        namespaces: readNamespaces(problems, config.getObject<unknown>("namespaces")),
        istio: readIstio(
            problems,
            section(problems, "istio", config.getObject<Json>("istio"), [
                "replicas",
                "gatewayReplicas",
                "gatewayServiceType",
                "mtls",
                "values",
            ]),
        ),
        knative: readKnative(
            problems,
            section(problems, "knative", config.getObject<Json>("knative"), Object.keys(PLATFORM_DEFAULTS.knative)),
        ),
        eventing: readEventing(
            problems,
            section(problems, "eventing", config.getObject<Json>("eventing"), ["broker", "kafka"]),
        ),
        monitoring: readMonitoring(
            problems,
            config,
            section(problems, "monitoring", config.getObject<Json>("monitoring"), [
                "metrics",
                "logs",
                "kiali",
                "expose",
            ]),
        ),
        sources: readSources(
            problems,
            section(problems, "sources", config.getObject<Json>("sources"), Object.keys(DEFAULT_SOURCES)),
        ),
        compatibility: readCompatibility(
            problems,
            section(problems, "compatibility", config.getObject<Json>("compatibility"), ["accept"]),
        ),
    };
    if (result.environment === "prod" && result.istio.mtls !== "STRICT") {
        problems.add("istio.mtls", 'must be "STRICT" in prod', result.istio.mtls);
    }
    if (result.eventing.broker === "kafka" && result.eventing.kafka === undefined) {
        problems.add("eventing.kafka", 'must give bootstrapServers when eventing.broker is "kafka"', undefined);
    }
    problems.throwIfAny();
    return result;
}

/** {@link readPlatformConfig} for the stack the program runs as, with the keys its stack file sets. */
export function readStackPlatformConfig(): PlatformConfig {
    const prefix = `${pulumi.getProject()}:`;
    const configuredKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length));
    return readPlatformConfig(new pulumi.Config(), configuredKeys);
}

/** An optional object section, checked for unknown keys. */
function section(problems: Problems, name: string, value: Json | undefined, known: readonly string[]): Json {
    if (value === undefined) {
        return {};
    }
    if (typeof value !== "object" || Array.isArray(value)) {
        problems.add(name, "must be an object", value);
        return {};
    }
    for (const key of Object.keys(value)) {
        if (!known.includes(key)) {
            problems.add(`${name}.${key}`, `is not a known key; known keys: ${known.join(", ")}`, key);
        }
    }
    return value;
}

function wholeNumber(problems: Problems, field: string, value: unknown, fallback: number, least: number): number {
    const n = value ?? fallback;
    if (typeof n !== "number" || !Number.isInteger(n) || n < least) {
        problems.add(field, `must be a whole number ≥ ${least}`, n);
        return fallback;
    }
    return n;
}

/**
 * A Go duration in whole seconds, within `range` (inclusive bounds, in seconds) when given:
 * the ranges are the ones Knative's config parsers enforce, so Knative's config webhook never
 * refuses what passes here.
 */
function duration(
    problems: Problems,
    field: string,
    value: unknown,
    fallback: string,
    range?: { min: bigint; max?: bigint; why: string },
): string {
    const text = value ?? fallback;
    const parsed = typeof text === "string" ? parseGoDuration(text) : undefined;
    if (typeof text !== "string" || parsed === undefined || parsed.ns < 0n || !parsed.wholeSeconds) {
        problems.add(field, 'must be a Go duration in whole seconds, e.g. "30s" or "10m"', text);
        return fallback;
    }
    const seconds = parsed.ns / 1_000_000_000n;
    if (range !== undefined && (seconds < range.min || (range.max !== undefined && seconds > range.max))) {
        problems.add(field, range.why, text);
        return fallback;
    }
    return text;
}

function readNamespaces(problems: Problems, value: unknown): AppNamespace[] {
    if (typeof value !== "object" || value === null || Array.isArray(value) || Object.keys(value).length === 0) {
        problems.add("namespaces", "must map each app namespace to its settings ({ group, broker?, quota? })", value);
        return [];
    }
    return Object.entries(value as Record<string, Json | null>).map(([name, raw]) => {
        const at = `namespaces.${name}`;
        if (!isDns1123Label(name) || isSystemNamespace(name) || name === "default") {
            problems.add(
                "namespaces",
                "keys must be DNS-1123 labels, not default nor one of the platform's own namespaces " +
                    `(${SYSTEM_NAMESPACES.map((ns) => ns.name).join(", ")}, kube-*, knative-*, istio-*)`,
                name,
            );
        }
        const settings = section(problems, at, raw ?? {}, ["group", "broker", "quota"]);
        const group = settings.group;
        if (typeof group !== "string" || group === "") {
            problems.add(`${at}.group`, "must name the group that manages the namespace", group);
        }
        const quota = section(problems, `${at}.quota`, settings.quota as Json | undefined, ["cpu", "memory", "pods"]);
        const defaults = PLATFORM_DEFAULTS.namespace.quota;
        return {
            name,
            group: group as string,
            broker: flag(problems, `${at}.broker`, settings.broker, PLATFORM_DEFAULTS.namespace.broker),
            quota: {
                cpu: quantity(problems, `${at}.quota.cpu`, quota.cpu, defaults.cpu, '"8" or "16Gi"'),
                memory: quantity(problems, `${at}.quota.memory`, quota.memory, defaults.memory, '"8" or "16Gi"'),
                pods: wholeNumber(problems, `${at}.quota.pods`, quota.pods, defaults.pods, 1),
            },
        };
    });
}

function readIstio(problems: Problems, istio: Json): IstioConfig {
    const d = PLATFORM_DEFAULTS.istio;
    const gatewayServiceType = istio.gatewayServiceType ?? d.gatewayServiceType;
    problems.oneOf("istio.gatewayServiceType", gatewayServiceType, ["LoadBalancer", "NodePort", "ClusterIP"]);
    const mtls = istio.mtls ?? d.mtls;
    problems.oneOf("istio.mtls", mtls, ["STRICT", "PERMISSIVE"]);
    const values = section(problems, "istio.values", istio.values as Json | undefined, [
        "base",
        "istiod",
        "cni",
        "gateway",
    ]);
    return {
        replicas: wholeNumber(problems, "istio.replicas", istio.replicas, d.replicas, 1),
        gatewayReplicas: wholeNumber(problems, "istio.gatewayReplicas", istio.gatewayReplicas, d.gatewayReplicas, 1),
        gatewayServiceType: gatewayServiceType as IstioConfig["gatewayServiceType"],
        mtls: mtls as IstioConfig["mtls"],
        values: {
            base: (values.base as Json | undefined) ?? {},
            istiod: (values.istiod as Json | undefined) ?? {},
            cni: (values.cni as Json | undefined) ?? {},
            gateway: (values.gateway as Json | undefined) ?? {},
        },
    };
}

function readKnative(problems: Problems, knative: Json): KnativeConfig {
    const d = PLATFORM_DEFAULTS.knative;
    // YAML reads 1.30 as the number 1.3: only a quoted minor names a release.
    const version = knative.version ?? d.version;
    const knownVersion = problems.oneOf("knative.version", version, Object.keys(KNATIVE_RELEASES) as KnativeMinor[]);
    const containerConcurrencyMaxLimit = wholeNumber(
        problems,
        "knative.containerConcurrencyMaxLimit",
        knative.containerConcurrencyMaxLimit,
        d.containerConcurrencyMaxLimit,
        1,
    );
    const targetConcurrency = wholeNumber(
        problems,
        "knative.targetConcurrency",
        knative.targetConcurrency,
        d.targetConcurrency,
        1,
    );
    if (targetConcurrency > containerConcurrencyMaxLimit) {
        problems.add(
            "knative.targetConcurrency",
            `must be ≤ knative.containerConcurrencyMaxLimit (${containerConcurrencyMaxLimit})`,
            targetConcurrency,
        );
    }
    return {
        version: knownVersion ? version : d.version,
        replicas: wholeNumber(problems, "knative.replicas", knative.replicas, d.replicas, 1),
        maxScaleLimit: wholeNumber(problems, "knative.maxScaleLimit", knative.maxScaleLimit, d.maxScaleLimit, 0),
        allowZeroInitialScale: flag(
            problems,
            "knative.allowZeroInitialScale",
            knative.allowZeroInitialScale,
            d.allowZeroInitialScale,
        ),
        containerConcurrencyMaxLimit,
        // Knative's autoscaler and deployment config parsers (knative/serving pkg/autoscaler/config, pkg/deployment).
        scaleToZeroGracePeriod: duration(
            problems,
            "knative.scaleToZeroGracePeriod",
            knative.scaleToZeroGracePeriod,
            d.scaleToZeroGracePeriod,
            { min: 1n, why: "must be positive (Knative refuses 0s)" },
        ),
        stableWindow: duration(problems, "knative.stableWindow", knative.stableWindow, d.stableWindow, {
            min: 6n,
            max: 3600n,
            why: "must lie between 6s and 1h (Knative's autoscaler window bounds)",
        }),
        targetConcurrency,
        progressDeadline: duration(problems, "knative.progressDeadline", knative.progressDeadline, d.progressDeadline, {
            min: 1n,
            why: "must be positive (Knative refuses 0s)",
        }),
    };
}

function readCompatibility(problems: Problems, compatibility: Json): PlatformConfig["compatibility"] {
    const accept: unknown = compatibility.accept ?? [];
    if (!Array.isArray(accept)) {
        problems.add("compatibility.accept", `must be a list of rules (${RULE_IDS.join(", ")})`, accept);
        return { accept: [] };
    }
    return {
        accept: accept.filter((rule): rule is RuleId => problems.oneOf("compatibility.accept", rule, RULE_IDS)),
    };
}

function readEventing(problems: Problems, eventing: Json): EventingConfig {
    const d = PLATFORM_DEFAULTS.eventing;
    const broker = eventing.broker ?? d.broker;
    problems.oneOf("eventing.broker", broker, ["in-memory", "kafka"]);
    if (eventing.kafka === undefined) {
        return { broker: broker as EventingConfig["broker"], kafka: undefined };
    }
    const kafka = section(problems, "eventing.kafka", eventing.kafka as Json, [
        "bootstrapServers",
        "replicationFactor",
        "partitions",
    ]);
    const servers = kafka.bootstrapServers;
    if (
        !Array.isArray(servers) ||
        servers.length === 0 ||
        !servers.every((s) => typeof s === "string" && /^[^\s:/]+:\d{1,5}$/.test(s))
    ) {
        problems.add("eventing.kafka.bootstrapServers", 'must be a non-empty list of "host:port"', servers);
    }
    return {
        broker: broker as EventingConfig["broker"],
        kafka: {
            bootstrapServers: Array.isArray(servers) ? (servers as string[]) : [],
            replicationFactor: wholeNumber(
                problems,
                "eventing.kafka.replicationFactor",
                kafka.replicationFactor,
                d.kafka.replicationFactor,
                1,
            ),
            partitions: wholeNumber(problems, "eventing.kafka.partitions", kafka.partitions, d.kafka.partitions, 1),
        },
    };
}

function flag(problems: Problems, field: string, value: unknown, fallback: boolean): boolean {
    const v = value ?? fallback;
    if (typeof v !== "boolean") {
        problems.add(field, "must be true or false", v);
        return fallback;
    }
    return v;
}

function quantity(problems: Problems, field: string, value: unknown, fallback: string, example = '"20Gi"'): string {
    const q = value ?? fallback;
    if (typeof q !== "string" || !((parseQuantity(q) ?? 0) > 0)) {
        problems.add(field, `must be a positive Kubernetes quantity such as ${example}`, q);
        return fallback;
    }
    return q;
}

function storageClass(problems: Problems, field: string, value: unknown): string | undefined {
    if (value !== undefined && (typeof value !== "string" || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value))) {
        problems.add(field, "must be a StorageClass name", value);
        return undefined;
    }
    return value;
}

/** A password from a secret config key; the stack must set it (the CLI asks for it too: Pulumi.yaml declares it). */
function password(problems: Problems, config: pulumi.Config, key: string): pulumi.Output<string> {
    const value = config.getSecret(key);
    if (value === undefined) {
        problems.add(key, `must be set: pulumi config set --secret ${key} <password> --stack <env>`, undefined);
    }
    return value ?? pulumi.secret("");
}

/** The Elastic Stack majors ECK 3.x runs (its README: Elasticsearch and Kibana 8+, 9+). */
const ELASTIC_STACK_VERSION = /^[89]\.\d+\.\d+$/;

function readMonitoring(problems: Problems, config: pulumi.Config, monitoring: Json): MonitoringConfig {
    const d = PLATFORM_DEFAULTS.monitoring;
    const metricKeys = ["enabled", "replicas", "retention", "persistent", "storageSize", "storageClass"];
    const metrics = section(problems, "monitoring.metrics", monitoring.metrics as Json | undefined, metricKeys);
    const logs = section(problems, "monitoring.logs", monitoring.logs as Json | undefined, [
        "enabled",
        "externalElasticsearch",
        "nodes",
        "persistent",
        "storageSize",
        "storageClass",
        "retentionDays",
        "version",
    ]);
    const kiali = section(problems, "monitoring.kiali", monitoring.kiali as Json | undefined, ["enabled"]);
    const expose = section(problems, "monitoring.expose", monitoring.expose as Json | undefined, [
        "grafana",
        "kibana",
        "kiali",
        "tlsSecret",
    ]);

    const retention = metrics.retention ?? d.metrics.retention;
    if (typeof retention !== "string" || !/^\d+(ms|s|m|h|d|w|y)$/.test(retention)) {
        problems.add("monitoring.metrics.retention", 'must be a Prometheus duration such as "7d" or "12h"', retention);
    }
    const external = logs.externalElasticsearch;
    if (
        external !== undefined &&
        (typeof external !== "string" || !/^https?:\/\//.test(external) || !URL.canParse(external))
    ) {
        problems.add(
            "monitoring.logs.externalElasticsearch",
            'must be an http(s) URL such as "https://es.corp.example:9200"',
            external,
        );
    }
    const stackVersion = logs.version ?? d.logs.version;
    if (typeof stackVersion !== "string" || !ELASTIC_STACK_VERSION.test(stackVersion)) {
        problems.add(
            "monitoring.logs.version",
            `must be an Elastic Stack version ECK ${VERSIONS.eckOperator} runs: 8.x.y or 9.x.y, such as "${VERSIONS.elasticStack}"`,
            stackVersion,
        );
    }
    const result: MonitoringConfig = {
        metrics: {
            enabled: flag(problems, "monitoring.metrics.enabled", metrics.enabled, d.metrics.enabled),
            replicas: wholeNumber(problems, "monitoring.metrics.replicas", metrics.replicas, d.metrics.replicas, 1),
            retention: retention as string,
            persistent: flag(problems, "monitoring.metrics.persistent", metrics.persistent, d.metrics.persistent),
            storageSize: quantity(
                problems,
                "monitoring.metrics.storageSize",
                metrics.storageSize,
                d.metrics.storageSize,
            ),
            storageClass: storageClass(problems, "monitoring.metrics.storageClass", metrics.storageClass),
            grafanaAdminPassword: password(problems, config, "grafanaAdminPassword"),
        },
        logs: {
            enabled: flag(problems, "monitoring.logs.enabled", logs.enabled, d.logs.enabled),
            externalElasticsearch: external as string | undefined,
            nodes: wholeNumber(problems, "monitoring.logs.nodes", logs.nodes, d.logs.nodes, 1),
            persistent: flag(problems, "monitoring.logs.persistent", logs.persistent, d.logs.persistent),
            storageSize: quantity(problems, "monitoring.logs.storageSize", logs.storageSize, d.logs.storageSize),
            storageClass: storageClass(problems, "monitoring.logs.storageClass", logs.storageClass),
            retentionDays: wholeNumber(
                problems,
                "monitoring.logs.retentionDays",
                logs.retentionDays,
                d.logs.retentionDays,
                1,
            ),
            version: stackVersion as string,
            shipperPassword: password(problems, config, "logShipperPassword"),
        },
        kiali: { enabled: flag(problems, "monitoring.kiali.enabled", kiali.enabled, d.kiali.enabled) },
        expose: {
            grafana: flag(problems, "monitoring.expose.grafana", expose.grafana, d.expose.grafana),
            kibana: flag(problems, "monitoring.expose.kibana", expose.kibana, d.expose.kibana),
            kiali: flag(problems, "monitoring.expose.kiali", expose.kiali, d.expose.kiali),
            tlsSecret: expose.tlsSecret as string | undefined,
        },
    };
    if (result.kiali.enabled && !result.metrics.enabled) {
        problems.add(
            "monitoring.kiali.enabled",
            "needs monitoring.metrics: Kiali draws the service graph from Prometheus",
            true,
        );
    }
    if (result.expose.grafana && !result.metrics.enabled) {
        problems.add("monitoring.expose.grafana", "needs monitoring.metrics.enabled", true);
    }
    if (result.expose.kibana && (!result.logs.enabled || result.logs.externalElasticsearch !== undefined)) {
        problems.add(
            "monitoring.expose.kibana",
            "needs the platform's own Elasticsearch (logs enabled, no externalElasticsearch)",
            true,
        );
    }
    if (result.expose.kiali && !result.kiali.enabled) {
        problems.add("monitoring.expose.kiali", "needs monitoring.kiali.enabled", true);
    }
    const exposesAny = result.expose.grafana || result.expose.kibana || result.expose.kiali;
    const tlsSecret = result.expose.tlsSecret;
    if (tlsSecret !== undefined && (typeof tlsSecret !== "string" || !isDns1123Subdomain(tlsSecret))) {
        problems.add("monitoring.expose.tlsSecret", "must be the name of a Secret (a DNS-1123 subdomain)", tlsSecret);
    } else if (exposesAny && tlsSecret === undefined) {
        problems.add(
            "monitoring.expose.tlsSecret",
            "must name the TLS certificate's Secret in istio-system when a UI is exposed: monitoring UIs are never " +
                "served over plain HTTP",
            undefined,
        );
    }
    return result;
}

function readSources(problems: Problems, sources: Json): UpstreamSources {
    const url = (field: keyof UpstreamSources, allowDirectory: boolean): string => {
        const value = sources[field] ?? DEFAULT_SOURCES[field];
        const ok =
            typeof value === "string" &&
            ((/^https?:\/\//.test(value) && URL.canParse(value)) || (allowDirectory && value.startsWith("/")));
        if (!ok) {
            problems.add(
                `sources.${field}`,
                allowDirectory
                    ? "must be an http(s) URL or an absolute directory of a mirror"
                    : "must be an http(s) URL",
                value,
            );
        }
        return value as string;
    };
    const registry = (field: "istioImageHub" | "knativeImageRegistry"): string | undefined => {
        const value = sources[field] ?? DEFAULT_SOURCES[field];
        if (
            value !== undefined &&
            (typeof value !== "string" || !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/.test(value))
        ) {
            problems.add(
                `sources.${field}`,
                'must be an image registry path such as "registry.corp.example/istio"',
                value,
            );
        }
        return value as string | undefined;
    };
    const schedulerImage = sources.schedulerImage ?? DEFAULT_SOURCES.schedulerImage;
    const pin = typeof schedulerImage === "string" ? imagePin(schedulerImage) : undefined;
    if (pin === undefined || pin.kind === "refused") {
        problems.add(
            "sources.schedulerImage",
            `${pin?.reason ?? "must be an image reference"}, e.g. "registry.corp.example/node:24.21.0-alpine"`,
            schedulerImage,
        );
    }
    return {
        schedulerImage: schedulerImage as string,
        prometheusChartRepository: url("prometheusChartRepository", false),
        elasticChartRepository: url("elasticChartRepository", false),
        fluentChartRepository: url("fluentChartRepository", false),
        kialiChartRepository: url("kialiChartRepository", false),
        istioChartRepository: url("istioChartRepository", false),
        istioImageHub: registry("istioImageHub") ?? DEFAULT_SOURCES.istioImageHub,
        knativeManifestBaseUrl: url("knativeManifestBaseUrl", true),
        knativeImageRegistry: registry("knativeImageRegistry"),
    };
}

/** The limits app stacks check ServerlessServices against (the `knativeLimits` output). */
export function knativeLimitsOf(knative: KnativeConfig): KnativeLimits {
    return {
        maxScaleLimit: knative.maxScaleLimit,
        allowZeroInitialScale: knative.allowZeroInitialScale,
        containerConcurrencyMaxLimit: knative.containerConcurrencyMaxLimit,
    };
}
