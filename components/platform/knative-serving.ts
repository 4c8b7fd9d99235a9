import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    type KnativeSourcesArgs,
    installManifest,
    installCore,
    leaveWebhookRulesToKnative,
    manifestSourceOf,
    patchConfigMap,
} from "./knative-manifests.ts";
import type { KnativeConfig } from "./config/index.ts";
import { type KnativeRelease, knativeManifests } from "./versions.ts";

/** Arguments of {@link KnativeServing}. */
export interface KnativeServingArgs extends KnativeSourcesArgs {
    /** Domain public services are served on (`config-domain`). */
    domain: string;
    /** The stack's `knative` section: replicas and Knative's settings. @see config/knative.ts */
    config: KnativeConfig;
    /** The Knative release to install (the stack's `knative.version`). @see versions.ts KNATIVE_RELEASES */
    release: KnativeRelease;
    /** Whether mesh-wide mTLS is STRICT: Knative's own pods then join the mesh. */
    strictMtls: boolean;
    /** What must be ready first: the mesh (its CRDs for net-istio's Gateway, its injection webhook). */
    mesh: pulumi.Input<pulumi.Resource>[];
}

const NAMESPACE = "knative-serving";

/** Serving's defaulting and validating webhook configurations, whose rules Knative's webhook writes itself. */
const SERVING_WEBHOOKS = ["webhook.serving.knative.dev", "validation.webhook.serving.knative.dev"];

/**
 * Serving's control plane above one replica: the leader-elected controller and autoscaler as
 * Deployments, the activator and webhook through the HPAs Knative ships (with their own
 * PodDisruptionBudgets). @see https://knative.dev/docs/serving/config-ha/
 */
const SERVING_CONTROL_PLANE = { deployments: ["controller", "autoscaler"], autoscalers: ["activator", "webhook"] };

/**
 * Knative Serving from its release manifests, layer by layer: the core (its
 * CRDs, controller, webhook, activator, autoscaler), then net-istio, the
 * networking layer that routes through Istio's ingress gateway. Platform-wide
 * settings land in Knative's own ConfigMaps, patched with server-side apply:
 * the domain, autoscaler defaults and limits, the features ServerlessService
 * uses, the progress deadline and Prometheus metrics. Above one replica, the
 * control plane runs that many pods (set on the manifest's own objects as they
 * are applied), each with a PodDisruptionBudget.
 *
 * Installed with `yaml.v2.ConfigFile` rather than the Knative Operator: the
 * manifests are what Knative publishes and tests, a preview shows every object,
 * and no operator has to be installed and upgraded in step first.
 *
 * ```ts
 * const serving = new KnativeServing("serving", { domain, config, release, sources, strictMtls: true, mesh: istio.ready });
 * ```
 * @see https://knative.dev/docs/install/yaml-install/serving/install-serving-with-yaml/
 */
export class KnativeServing extends pulumi.ComponentResource {
    /** The Knative Serving release installed. */
    public readonly version: pulumi.Output<string>;
    /** The namespaces it installs into (the platform's preview identity reads their Secrets). */
    public readonly namespaces: string[] = [NAMESPACE];
    /** Every object its charts and manifests render, once all of them are registered (the node-pool check waits for it). */
    public readonly rendered: pulumi.Output<unknown[]>;

    constructor(name: string, args: KnativeServingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:knative:KnativeServing", name, {}, opts);
        const { release } = args;
        const manifests = knativeManifests(release);
        const manifestSource = manifestSourceOf(args);
        const { core, hpa } = installServingCore(this, name, args);
        // net-istio's manifest lets the API server reach both webhooks under STRICT mTLS itself (PeerAuthentications
        // `webhook` and `net-istio-webhook`, port 8443 PERMISSIVE): a second resource of ours for those objects,
        // applied under the stack's one field manager, would take their labels away at every run.
        const netIstio = installManifest(this, `${name}-net-istio`, manifests.netIstio, manifestSource, [
            core,
            ...args.mesh,
        ]);
        this.rendered = pulumi.all([core, hpa, netIstio].map((file) => file.resources));

        this.version = pulumi.output(release.serving);
        this.registerOutputs({ version: this.version });
    }
}

/**
 * Serving's core (CRDs, controller, autoscaler, activator, webhook) and its HPA autoscaling, with
 * the platform's settings in Knative's own ConfigMaps: everything Knative Services need but the
 * networking layer. Returns the core, which the networking layer waits for, and the HPA layer.
 */
export function installServingCore(
    parent: pulumi.Resource,
    name: string,
    args: KnativeServingArgs,
): { core: k8s.yaml.v2.ConfigFile; hpa: k8s.yaml.v2.ConfigFile } {
    const { config } = args;
    const manifestSource = manifestSourceOf(args);
    const manifests = knativeManifests(args.release);
    const core = installCore(parent, name, {
        core: manifests.servingCore,
        namespace: NAMESPACE,
        manifestSource,
        strictMtls: args.strictMtls,
        dependsOn: args.mesh,
        replicas: config.replicas,
        controlPlane: SERVING_CONTROL_PLANE,
        edits: [leaveWebhookRulesToKnative(SERVING_WEBHOOKS)],
    });
    // ServerlessService offers the cpu and memory metrics, which Knative scales through its HPA class.
    const hpa = installManifest(parent, `${name}-hpa`, manifests.servingHpa, manifestSource, [core]);
    for (const [configMap, data] of Object.entries(knativeServingSettings(args.domain, config))) {
        patchConfigMap(parent, `${name}-${configMap}`, NAMESPACE, configMap, data, [core]);
    }
    return { core, hpa };
}

/** The data each Knative Serving ConfigMap gets, by ConfigMap name. */
export function knativeServingSettings(domain: string, config: KnativeConfig): Record<string, Record<string, string>> {
    return {
        "config-domain": { [domain]: "" },
        "config-autoscaler": {
            "enable-scale-to-zero": "true",
            "scale-to-zero-grace-period": config.scaleToZeroGracePeriod,
            "stable-window": config.stableWindow,
            "container-concurrency-target-default": String(config.targetConcurrency),
            "max-scale-limit": String(config.maxScaleLimit),
            // Knative refuses a limit without a default max-scale inside it (0 = unbounded is outside every limit).
            ...(config.maxScaleLimit > 0 ? { "max-scale": String(config.maxScaleLimit) } : {}),
            "allow-zero-initial-scale": String(config.allowZeroInitialScale),
        },
        "config-defaults": { "container-concurrency-max-limit": String(config.containerConcurrencyMaxLimit) },
        // ServerlessService relies on these: tag routing for canaries, emptyDir for a writable /tmp.
        "config-features": {
            "tag-header-based-routing": "enabled",
            "kubernetes.podspec-volumes-emptydir": "enabled",
            "secure-pod-defaults": "enabled",
        },
        "config-deployment": {
            "progress-deadline": config.progressDeadline,
            "registries-skipping-tag-resolving": config.registriesSkippingTagResolving.join(","),
        },
        // Knative ≥ 1.19 exports no metrics unless told: expose them for Prometheus to scrape.
        "config-observability": { "metrics-protocol": "prometheus", "request-metrics-protocol": "prometheus" },
    };
}
