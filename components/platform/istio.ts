import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { IstioConfig } from "./config/index.ts";
import { chartCrds, type ClusterCrdsArgs } from "./crds.ts";
import { deepMerge } from "./helm-values.ts";
import { type SourcesArgs, VERSIONS, sourcesOf } from "./versions.ts";

/** Arguments of {@link Istio}; every field but the config has a default. */
export interface IstioArgs extends ClusterCrdsArgs, SourcesArgs {
    /** The stack's `istio` section: replicas, gateway, mTLS, extra values. @see config/istio.ts */
    config: IstioConfig;
    /** The Istio release of the four charts. @default VERSIONS.istio */
    version?: string;
}

/** Where Knative's net-istio expects the ingress gateway (its `config-istio` default). */
export const INGRESS_GATEWAY = { name: "istio-ingressgateway", namespace: "istio-system" } as const;

/**
 * The Istio service mesh from its upstream Helm charts: `base` (CRDs),
 * `istiod`, `cni` (so that sidecars work in namespaces that enforce the
 * restricted Pod Security profile, which forbids the NET_ADMIN init
 * container), and the ingress gateway Knative routes through. Mesh-wide mTLS
 * is STRICT unless the stack says otherwise. Above one replica, istiod and the
 * gateway get a PodDisruptionBudget and spread across nodes.
 *
 * ```ts
 * const istio = new Istio("istio", { config: { replicas: 2, gatewayReplicas: 3, gatewayServiceType: "LoadBalancer", mtls: "STRICT", values } });
 * ```
 * @see https://istio.io/latest/docs/setup/install/helm/
 */
export class Istio extends pulumi.ComponentResource {
    /** In-cluster address of the ingress gateway. */
    public readonly ingressGateway: pulumi.Output<string>;
    public readonly version: pulumi.Output<string>;
    /** What a layer that needs the mesh (CRDs, webhook, gateway) depends on. */
    public readonly ready: pulumi.Resource[];
    /** The namespaces it installs into (the platform's preview identity reads their Secrets). */
    public readonly namespaces: string[] = [INGRESS_GATEWAY.namespace];
    /** Every object its charts and manifests render, once all of them are registered (the node-pool check waits for it). */
    public readonly rendered: pulumi.Output<unknown[]>;

    constructor(name: string, args: IstioArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:mesh:Istio", name, {}, opts);
        const version = args.version ?? VERSIONS.istio;
        const sources = sourcesOf(args);
        const repositoryOpts = { repo: sources.istioChartRepository };
        const hub = sources.istioImageHub;
        const { config } = args;
        const namespace = INGRESS_GATEWAY.namespace;

        // The CNI node agent is privileged by nature; the app namespaces are the restricted ones.
        const ns = new k8s.core.v1.Namespace(
            `${name}-system`,
            { metadata: { name: namespace, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } },
            { parent: this },
        );
        const chart = (
            chartName: string,
            release: string,
            values: pulumi.Input<Record<string, unknown>>,
            dependsOn: pulumi.Resource[],
        ) =>
            new k8s.helm.v4.Chart(
                `${name}-${chartName}`,
                { chart: chartName, name: release, version, namespace, repositoryOpts, values },
                { parent: this, dependsOn },
            );

        // The base chart's CRDs are applied and recorded by a CrdSet; the chart installs the rest of it.
        const baseValues = deepMerge({ defaultRevision: "default" }, config.values.base);
        const crds = chartCrds(
            `${name}-crds`,
            {
                artefact: `istio base ${version}`,
                chart: "base",
                version,
                repository: repositoryOpts.repo,
                releaseName: "istio-base",
                namespace,
                values: baseValues,
            },
            args.clusterCrds,
            { parent: this },
        );
        const base = chart(
            "base",
            "istio-base",
            pulumi.all([crds.names, crds.inChart]).apply(([names, inChart]) =>
                deepMerge(baseValues, {
                    base: { excludedCRDs: [...excludedCrds(baseValues), ...(inChart ? [] : names)] },
                }),
            ),
            [ns, crds.set],
        );
        const istiod = chart("istiod", "istiod", deepMerge(istiodValues(config, hub), config.values.istiod), [base]);
        // Some platforms need their own CNI settings (e.g. values.cni: { global: { platform: "gke" } }).
        // Upstream requests resources for the CNI agent and istiod but sets no memory limit.
        const cni = chart(
            "cni",
            "istio-cni",
            deepMerge(
                {
                    global: { hub },
                    resources: { requests: { cpu: "100m", memory: "100Mi" }, limits: { memory: "512Mi" } },
                },
                config.values.cni,
            ),
            [base],
        );
        const gateway = chart(
            "gateway",
            INGRESS_GATEWAY.name,
            deepMerge(gatewayValues(config), config.values.gateway),
            [istiod, cni],
        );
        // Istio validates its own resources with istiod's webhook: apply them after it answers.
        const peerAuthentication = new k8s.apiextensions.CustomResource(
            `${name}-mesh-mtls`,
            {
                apiVersion: "security.istio.io/v1",
                kind: "PeerAuthentication",
                metadata: { name: "default", namespace },
                spec: { mtls: { mode: config.mtls } },
            },
            { parent: this, dependsOn: [istiod] },
        );

        this.ready = [base, istiod, cni, gateway, peerAuthentication];
        this.rendered = pulumi.all([base, istiod, cni, gateway].map((c) => c.resources));
        this.ingressGateway = pulumi.output(`${INGRESS_GATEWAY.name}.${namespace}.svc.cluster.local`);
        this.version = pulumi.output(version);
        this.registerOutputs({ ingressGateway: this.ingressGateway, version: this.version });
    }
}

/** The CRDs a stack's own `istio.values.base` leaves out of the base chart (`base.excludedCRDs`). */
function excludedCrds(baseValues: Record<string, unknown>): unknown[] {
    const { base } = baseValues as { base?: { excludedCRDs?: unknown } };
    return Array.isArray(base?.excludedCRDs) ? base.excludedCRDs : [];
}

/** Prefer spreading `app=<app>` pods across nodes (soft, so that small clusters still schedule). */
export function spreadAcrossNodes(app: string): Record<string, unknown> {
    return {
        podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
                {
                    weight: 100,
                    podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app } } },
                },
            ],
        },
    };
}

/**
 * What the sidecar Istio injects into every mesh pod asks for: the istiod chart's own defaults
 * (`global.proxy.resources`), set explicitly so that the node-pool check counts what is injected.
 */
export const SIDECAR_RESOURCES = {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "2000m", memory: "1024Mi" },
} as const;

/**
 * istiod's chart values. Since Istio 1.24 the chart reads its settings at the top level (its
 * values.yaml keeps the defaults under `_internal_defaults_do_not_set`); under `pilot` they are
 * silently ignored.
 */
function istiodValues(config: IstioConfig, hub: string): Record<string, unknown> {
    const ha = config.replicas > 1;
    return {
        global: {
            hub,
            defaultPodDisruptionBudget: { enabled: ha },
            // Pod Security `restricted` (the app namespaces') refuses a pod whose injected istio-proxy and
            // istio-validation containers have no seccomp profile, and Knative sets none at pod level.
            proxy: { seccompProfile: { type: "RuntimeDefault" }, resources: SIDECAR_RESOURCES },
        },
        replicaCount: config.replicas,
        autoscaleMin: config.replicas,
        // The chart's HPA allows 1 to 5 pods; the API server refuses a minimum above the maximum.
        autoscaleMax: Math.max(5, config.replicas),
        resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
        cni: { enabled: true },
        // The chart leaves istiod's own container without a seccomp profile unless asked (Pod Security `restricted`).
        seccompProfile: { type: "RuntimeDefault" },
        ...(ha ? { affinity: spreadAcrossNodes("istiod") } : {}),
        meshConfig: { accessLogFile: "/dev/stdout" },
    };
}

function gatewayValues(config: IstioConfig): Record<string, unknown> {
    const ha = config.gatewayReplicas > 1;
    return {
        replicaCount: config.gatewayReplicas,
        service: { type: config.gatewayServiceType },
        autoscaling: { minReplicas: config.gatewayReplicas, maxReplicas: Math.max(5, config.gatewayReplicas * 2) },
        podDisruptionBudget: ha ? { minAvailable: 1 } : {},
        // The chart's default pod security context (the sysctl that lets the proxy bind 80 and 443 unprivileged),
        // with the RuntimeDefault seccomp profile it leaves out; a security context given replaces the default.
        securityContext: {
            sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
            seccompProfile: { type: "RuntimeDefault" },
        },
        ...(ha ? { affinity: spreadAcrossNodes(INGRESS_GATEWAY.name) } : {}),
    };
}
