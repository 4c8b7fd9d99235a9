/**
 * The part of the platform stack that app stacks depend on, for the app-stack tests: the real
 * AppNamespaces component (locked-down namespaces with their warm schedulers) from the stack's
 * real config, Knative Serving's core from the pinned release manifest with the platform's own
 * settings in its ConfigMaps (installed by the platform's own code; the cluster host runs its
 * controller, autoscaler, activator and webhook), and the outputs PlatformReference reads.
 * Istio, net-istio and monitoring are deployed by the platform's own end-to-end test; here the
 * Eventing API is the CRDs of knative-crds.ts, and every broker-enabled namespace's Broker is named
 * "default", as the platform names it.
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { engineOutput } from "../toolchain/engine.ts";
import { installKnativeCrds } from "./knative-crds.ts";
import { AppNamespaces, clusterProvider } from "../components/platform/cluster.ts";
import { warmSchedulers } from "../components/platform/warm-scheduler.ts";
import { PreviewIdentities } from "../components/platform/preview-identity.ts";
import { installServingCore } from "../components/platform/knative-serving.ts";
import { type KnativeConfig, knativeLimitsOf, readStackPlatformConfig } from "../components/platform/config/index.ts";
import { DEFAULT_KNATIVE, KNATIVE_RELEASES, stackVersionsOf } from "../components/platform/versions.ts";
import { UPSTREAM_MIRROR } from "./mirror/index.ts";
import { type World, eventually, project, stackOf } from "./world.ts";

/** Knative Serving as the platform installs it, without its networking layer (net-istio needs Istio). */
class ServingCore extends pulumi.ComponentResource {
    constructor(name: string, domain: string, knative: KnativeConfig, opts: pulumi.ComponentResourceOptions) {
        super("serverless-platform:knative:ServingCore", name, {}, opts);
        installServingCore(this, name, {
            domain,
            config: knative,
            release: KNATIVE_RELEASES[knative.version],
            sources: { knativeManifestBaseUrl: join(UPSTREAM_MIRROR, "knative") },
            strictMtls: false,
            mesh: [],
        });
        this.registerOutputs({});
    }
}

export function platformStandIn() {
    const config = readStackPlatformConfig();
    const provider = clusterProvider(`${config.environment}-cluster`, config.kubernetes);
    const apps = new AppNamespaces("apps", { namespaces: config.namespaces }, { providers: [provider] });
    warmSchedulers(apps);
    // The app namespaces' preview identities, as the platform makes them (the platform's own has no objects to read).
    new PreviewIdentities(
        "previews",
        { apiGroups: [], platformNamespaces: [], appNamespaces: apps.namespaces },
        { providers: [provider] },
    );
    new ServingCore("serving", config.domain, config.knative, { providers: [provider] });
    return {
        environment: config.environment,
        domain: config.domain,
        appNamespaces: [...apps.namespaces.keys()],
        knativeLimits: knativeLimitsOf(config.knative),
        brokers: Object.fromEntries(config.namespaces.filter((ns) => ns.broker).map((ns) => [ns.name, "default"])),
        kafkaBootstrapServers: [],
        ingressGateway: "istio-ingressgateway.istio-system.svc.cluster.local",
        versions: stackVersionsOf(KNATIVE_RELEASES[DEFAULT_KNATIVE]),
    };
}

/**
 * Deploys the stand-in as the dev platform stack of `world` (Eventing's API as CRDs) and returns it
 * once Knative's webhook admits Knative Services: its pods are ready at once here, and it answers
 * once it has made its certificate.
 */
export async function deployPlatformStandIn(world: World): Promise<automation.Stack> {
    await installKnativeCrds(world, ["eventingCore", "kafkaController"]);
    const platform = await stackOf(world, project("."), "dev", {
        program: () => Promise.resolve(platformStandIn()),
        // The examples' registry does not exist: Knative runs their tags as written instead of resolving them.
        configPaths: { "serverless-platform:knative.registriesSkippingTagResolving[0]": "registry.example.com" },
    });
    await upPlatformStandIn(world, platform);
    return platform;
}

/** Runs `up` of the stand-in and returns once Knative's webhook admits Knative Services again. */
export async function upPlatformStandIn(world: World, platform: automation.Stack): Promise<void> {
    await platform.up(engineOutput);
    await eventually("Knative's webhook admits a Knative Service", async () => {
        await world.kube("POST", "/apis/serving.knative.dev/v1/namespaces/games-web/services?dryRun=All", {
            apiVersion: "serving.knative.dev/v1",
            kind: "Service",
            metadata: { name: "probe", namespace: "games-web" },
            spec: { template: { spec: { containers: [{ image: "registry.example.com/probe:1.0.0" }] } } },
        });
        return true;
    });
}
