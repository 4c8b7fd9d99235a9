/**
 * The part of the platform stack that app stacks depend on, for the app-stack tests: the real
 * AppNamespaces component (locked-down namespaces with their warm schedulers) from the stack's
 * real config, and the outputs PlatformReference reads. Istio, Knative and monitoring are
 * deployed by the platform's own end-to-end test; here the Knative API is the CRDs of
 * knative-crds.ts, and every broker-enabled namespace's Broker is named "default", as the
 * platform names it.
 */
import { AppNamespaces, clusterProvider } from "../components/platform/cluster.ts";
import { warmSchedulers } from "../components/platform/warm-scheduler.ts";
import { knativeServingSettings } from "../components/platform/knative-serving.ts";
import { knativeLimitsOf, readStackPlatformConfig } from "../components/platform/config/index.ts";
import { DEFAULT_KNATIVE, stackVersionsOf } from "../components/platform/versions.ts";

export function platformStandIn() {
    const config = readStackPlatformConfig();
    const provider = clusterProvider(`${config.environment}-cluster`, config.kubernetes);
    const apps = new AppNamespaces("apps", { namespaces: config.namespaces }, { providers: [provider] });
    warmSchedulers(apps);
    return {
        environment: config.environment,
        domain: config.domain,
        appNamespaces: [...apps.namespaces.keys()],
        knativeLimits: knativeLimitsOf(config.knative),
        brokers: Object.fromEntries(config.namespaces.filter((ns) => ns.broker).map((ns) => [ns.name, "default"])),
        kafkaBootstrapServers: [],
        ingressGateway: "istio-ingressgateway.istio-system.svc.cluster.local",
        versions: stackVersionsOf(DEFAULT_KNATIVE),
        /** The data the platform writes into Knative Serving's ConfigMaps, for Knative's webhook stand-in. */
        knativeSettings: knativeServingSettings(config.domain, config.knative),
    };
}
