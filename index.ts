/**
 * The platform program: `pulumi up --stack <env>` reads the environment's
 * config from stacks/Pulumi.<env>.yaml, checks it and the target cluster's versions against the
 * compatibility matrix, installs the platform in
 * order (the mesh, then the app namespaces, Knative Serving and Eventing and monitoring on it) and
 * exports what app stacks read through a StackReference.
 */
import * as pulumi from "@pulumi/pulumi";
import { AggregatedRolesGuard } from "./components/platform/aggregated-roles.ts";
import { AppNamespaces, DynamicResourceHost, clusterProvider } from "./components/platform/cluster.ts";
import { warmSchedulers } from "./components/platform/warm-scheduler.ts";
import { type ClusterTarget, readClusterFacts } from "./components/platform/cluster-facts.ts";
import {
    type ClusterFacts,
    checkCompatibility,
    enforceCompatibility,
    targetOf,
} from "./components/platform/compatibility.ts";
import { Istio, SIDECAR_RESOURCES } from "./components/platform/istio.ts";
import { NodePoolCheck, containerRequests } from "./components/platform/node-pool.ts";
import { PreviewIdentities } from "./components/platform/preview-identity.ts";
import { enforceStorageClasses, monitoringClaims } from "./components/platform/storage-classes.ts";
import { oneFieldManager, stackFieldManager } from "./components/shared/field-manager.ts";
import { KnativeEventing } from "./components/platform/knative-eventing.ts";
import type { ManifestReader } from "./components/platform/knative-manifests.ts";
import { KnativeServing } from "./components/platform/knative-serving.ts";
import { Monitoring } from "./components/platform/monitoring/index.ts";
import { knativeLimitsOf, readStackPlatformConfig, stackLabel } from "./components/platform/config/index.ts";
import { KNATIVE_RELEASES, stackVersionsOf } from "./components/platform/versions.ts";

/**
 * @param readFacts how the target cluster is read for the compatibility check (tests pass a
 *   stand-in; the program reads the API server).
 * @param readManifest how Knative's manifests are read (tests pass their own; the program reads
 *   `sources.knativeManifestBaseUrl`).
 */
export default async function platform(
    readFacts: (target: ClusterTarget) => Promise<ClusterFacts> = readClusterFacts,
    readManifest?: ManifestReader,
) {
    const config = readStackPlatformConfig();
    // Before anything is registered: refuse what the target cluster does not support together.
    const stack = stackLabel();
    const cluster = await readFacts(config.kubernetes).catch((error: unknown) => {
        throw new pulumi.RunError(
            `${stack}: cannot read the versions of the cluster it names, which the compatibility check needs: ${error instanceof Error ? error.message : String(error)}`,
        );
    });
    enforceCompatibility(
        checkCompatibility(targetOf(config.knative.version, config.monitoring.logs.version), cluster),
        config.compatibility.accept,
        stack,
    );
    enforceStorageClasses(monitoringClaims(config.monitoring), cluster.storageClasses, stack);

    // So that a run that takes over what a killed run stored applies as the same owner (see oneFieldManager).
    pulumi.runtime.registerResourceTransform(oneFieldManager(stackFieldManager()));
    // Every object the stack applies, charts' and manifests' included, counts against the node pool.
    const nodePool = new NodePoolCheck();
    pulumi.runtime.registerResourceTransform(nodePool.transform);
    const provider = clusterProvider(`${config.environment}-cluster`, config.kubernetes);
    const opts = { providers: [provider, new DynamicResourceHost(`${config.environment}-crds`, config.kubernetes)] };
    const strictMtls = config.istio.mtls === "STRICT";

    const istio = new Istio(
        "istio",
        {
            config: config.istio,
            sources: config.sources,
            clusterCrds: cluster.crds,
        },
        opts,
    );
    // After the mesh: the namespaces' first pods (the warm schedulers) must get their sidecars.
    const apps = new AppNamespaces("apps", { namespaces: config.namespaces, mesh: istio.ready }, opts);
    warmSchedulers(apps, config.sources);
    // Knative ships aggregated ClusterRoles: a destroy deletes them, then the guard that keeps them deleted.
    const aggregatedRoles = new AggregatedRolesGuard("aggregated-roles", opts);
    const knativeOpts = { ...opts, dependsOn: [aggregatedRoles] };
    const knative = KNATIVE_RELEASES[config.knative.version];
    const serving = new KnativeServing(
        "knative-serving",
        {
            domain: config.domain,
            config: config.knative,
            release: knative,
            sources: config.sources,
            readManifest,
            strictMtls,
            mesh: istio.ready,
        },
        knativeOpts,
    );
    const eventing = new KnativeEventing(
        "knative-eventing",
        {
            config: config.eventing,
            release: knative,
            sources: config.sources,
            readManifest,
            replicas: config.knative.replicas,
            brokerNamespaces: config.namespaces.filter((ns) => ns.broker).map((ns) => ns.name),
            strictMtls,
            dependsOn: [...istio.ready, ...apps.namespaces.values()],
        },
        knativeOpts,
    );

    // Beside Knative, not after it: Prometheus and the exposed UIs wait for the mesh, the log data for nothing.
    const monitoring = new Monitoring(
        "monitoring",
        {
            config: config.monitoring,
            domain: config.domain,
            sources: config.sources,
            protectData: config.monitoring.logs.persistent,
            mesh: istio.ready,
            strictMtls,
            clusterCrds: cluster.crds,
        },
        opts,
    );

    const installed = [istio, serving, eventing, monitoring];
    // Pull requests' previews run as these, never as the deploy identity: the API server refuses their real writes.
    new PreviewIdentities(
        "previews",
        {
            platformNamespaces: installed.flatMap((component) => component.namespaces),
            appNamespaces: apps.namespaces,
        },
        { ...opts, dependsOn: installed },
    );

    nodePool.enforce(
        installed.map((component) => component.rendered),
        config.nodePool,
        containerRequests({ resources: SIDECAR_RESOURCES }),
        stack,
    );

    return {
        environment: config.environment,
        domain: config.domain,
        appNamespaces: [...apps.namespaces.keys()],
        knativeLimits: knativeLimitsOf(config.knative),
        ingressGateway: istio.ingressGateway,
        brokers: eventing.brokers,
        brokerClass: eventing.brokerClass,
        kafkaBootstrapServers: eventing.kafkaBootstrapServers,
        versions: stackVersionsOf(knative, config.monitoring.logs.version),
        monitoringUrls: monitoring.urls,
        monitoringPublicUrls: monitoring.publicUrls,
    } satisfies Record<keyof typeof PLATFORM_OUTPUTS, unknown>;
}

/**
 * What the platform stack exports, each with who reads it and why. Every app stack can read every output of the
 * platform stack (a StackReference reads them all), so none is a secret: operators find Grafana's password in the
 * stack's config or the Secret `monitoring/grafana-admin`, never here.
 */
export const PLATFORM_OUTPUTS = {
    environment: "app stacks: PlatformReference names the environment in its errors and checks",
    domain: "app stacks: a public service's URL is <name>.<namespace>.<domain>",
    appNamespaces: "app stacks: PlatformReference.namespace() refuses a namespace the platform does not manage",
    knativeLimits: "app stacks: ServerlessService checks scaling and timeouts against the platform's Knative limits",
    ingressGateway: "app stacks: the in-cluster address of the ingress gateway, for callers inside the cluster",
    brokers: "app stacks: PlatformReference.broker() names the Broker a broker trigger subscribes to",
    brokerClass: "operators: which broker implementation the environment runs (in-memory or Kafka)",
    kafkaBootstrapServers: "app stacks: a Kafka trigger's default bootstrap servers",
    versions: "app stacks and operators: the Istio, Knative and monitoring versions installed",
    monitoringUrls: "operators: the in-cluster URLs of Grafana, Prometheus, Kibana and Kiali",
    monitoringPublicUrls: "operators: the public URLs of the UIs an environment exposes",
} as const;
