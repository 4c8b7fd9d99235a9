/**
 * The platform program: `pulumi up --stack <env>` reads the environment's
 * config from stacks/Pulumi.<env>.yaml, checks it, installs the platform in
 * order (the mesh, then the app namespaces and Knative Serving on it, then
 * Knative Eventing, then monitoring) and exports what app stacks read through a StackReference.
 */
import { AppNamespaces, clusterProvider } from "./components/cluster.ts";
import { Istio } from "./components/istio.ts";
import { KnativeEventing } from "./components/knative-eventing.ts";
import { KnativeServing } from "./components/knative-serving.ts";
import { Monitoring } from "./components/monitoring/index.ts";
import { knativeLimitsOf, readStackPlatformConfig } from "./components/platform-config.ts";
import { VERSIONS } from "./components/versions.ts";

export default function platform() {
    const config = readStackPlatformConfig();

    const provider = clusterProvider(`${config.environment}-cluster`, config.kubernetes);
    const opts = { providers: [provider] };
    const strictMtls = config.istio.mtls === "STRICT";
    const source = {
        baseUrl: config.sources.knativeManifestBaseUrl,
        imageRegistry: config.sources.knativeImageRegistry,
    };

    const istio = new Istio(
        "istio",
        {
            config: config.istio,
            chartRepository: config.sources.istioChartRepository,
            imageHub: config.sources.istioImageHub,
        },
        opts,
    );
    // After the mesh: the namespaces' first pods (the warm schedulers) must get their sidecars.
    const apps = new AppNamespaces(
        "apps",
        { namespaces: config.namespaces, schedulerImage: config.sources.schedulerImage, mesh: istio.ready },
        opts,
    );
    const serving = new KnativeServing(
        "knative-serving",
        { domain: config.domain, config: config.knative, source, strictMtls, mesh: istio.ready },
        opts,
    );
    const eventing = new KnativeEventing(
        "knative-eventing",
        {
            config: config.eventing,
            source,
            replicas: config.knative.replicas,
            brokerNamespaces: config.namespaces.filter((ns) => ns.broker).map((ns) => ns.name),
            strictMtls,
            dependsOn: [...istio.ready, ...apps.namespaces],
        },
        opts,
    );

    // After Serving: exposed UIs are routed through net-istio's gateway, and Knative's metrics are switched on.
    const monitoring = new Monitoring(
        "monitoring",
        {
            config: config.monitoring,
            domain: config.domain,
            sources: config.sources,
            protectData: config.monitoring.logs.persistent,
        },
        { ...opts, dependsOn: [serving] },
    );

    return {
        environment: config.environment,
        domain: config.domain,
        appNamespaces: config.namespaces.map((ns) => ns.name),
        knativeLimits: knativeLimitsOf(config.knative),
        ingressGateway: istio.ingressGateway,
        brokers: eventing.brokers,
        brokerClass: eventing.brokerClass,
        kafkaBootstrapServers: eventing.kafkaBootstrapServers,
        versions: VERSIONS,
        monitoringUrls: monitoring.urls,
        monitoringPublicUrls: monitoring.publicUrls,
        grafanaAdminPassword: monitoring.grafanaAdminPassword,
    };
}
