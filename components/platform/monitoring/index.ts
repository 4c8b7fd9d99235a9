import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../config/index.ts";
import type { ClusterCrdsArgs } from "../crds.ts";
import type { SourcesArgs } from "../versions.ts";
import { KIALI_SERVICE, Kiali } from "./kiali.ts";
import { ELASTIC_NAMESPACE, LOGS_SERVICES, Logs } from "./logs.ts";
import { METRICS_SERVICES, Metrics } from "./metrics.ts";

/** Arguments of {@link Monitoring}. */
export interface MonitoringArgs extends ClusterCrdsArgs, SourcesArgs {
    /** The stack's `monitoring` section, with its passwords. @see config/monitoring.ts */
    config: MonitoringConfig;
    /** The platform's domain: exposed UIs answer at `<ui>.<domain>`. */
    domain: string;
    /** Protect stateful data from deletion (prod). */
    protectData: boolean;
    /**
     * The mesh, which only the pieces that use it wait for: Prometheus (it scrapes over the mesh's mTLS
     * with the certificates its sidecar writes) and the exposed UIs' Gateway and VirtualServices (Istio's
     * types, served by its ingress gateway). The log data waits for nothing outside monitoring, so a
     * `destroy` refused at the protected Elasticsearch keeps only it and what it needs.
     */
    mesh: pulumi.Input<pulumi.Resource>[];
    /** Whether mesh-wide mTLS is STRICT: Knative's own pods are then in the mesh, and scraped over its mTLS. */
    strictMtls: boolean;
}

export const MONITORING_NAMESPACE = "monitoring";
/** The Istio Gateway of the exposed UIs, in the monitoring namespace. */
const UI_GATEWAY = "monitoring-ui";

/** An Istio Gateway on the ingress gateway for `hosts`: HTTPS with the certificate in `tlsSecret`, HTTP redirected. */
export function uiGateway(hosts: string[], tlsSecret: string): k8s.apiextensions.CustomResourceArgs {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: { name: UI_GATEWAY, namespace: MONITORING_NAMESPACE },
        spec: {
            selector: { istio: "ingressgateway" },
            servers: [
                {
                    port: { number: 443, name: "https", protocol: "HTTPS" },
                    hosts,
                    tls: { mode: "SIMPLE", credentialName: tlsSecret },
                },
                { port: { number: 80, name: "http", protocol: "HTTP" }, hosts, tls: { httpsRedirect: true } },
            ],
        },
    };
}

/**
 * Monitoring out of the box: Prometheus and Grafana with Knative and Istio
 * dashboards, Elasticsearch and Kibana with Fluent Bit shipping every
 * container's logs, and Kiali for the service graph. Each piece can be turned
 * off per stack. No UI is reachable from outside the cluster unless the stack
 * exposes it (`monitoring.expose`), through the Istio ingress gateway, over TLS only.
 *
 * ```ts
 * const monitoring = new Monitoring("monitoring", { config, domain, sources, protectData: true, mesh: istio.ready, strictMtls: true });
 * ```
 */
export class Monitoring extends pulumi.ComponentResource {
    /** In-cluster URLs of the UIs that are enabled, by UI. */
    public readonly urls: pulumi.Output<Record<string, string>>;
    /** Public URLs of the exposed UIs, by UI. */
    public readonly publicUrls: pulumi.Output<Record<string, string>>;
    /** The namespaces it installs into (the platform's preview identity reads their Secrets). */
    public readonly namespaces: string[] = [MONITORING_NAMESPACE];
    /** Every object its charts render, once all of them are registered (the node-pool check waits for it). */
    public readonly rendered: pulumi.Output<unknown[]>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:monitoring:Monitoring", name, {}, opts);
        const { config, sources } = args;
        // Node agents (node-exporter, Fluent Bit) read host paths: this namespace cannot be "restricted".
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: MONITORING_NAMESPACE,
                    labels: { "pod-security.kubernetes.io/enforce": "privileged" },
                },
            },
            // Deleting the namespace deletes the data in it, protected or not; and the Kubernetes provider's
            // replace of a named object (`up --replace`) re-applies it, then deletes it (pulumi-kubernetes#4522).
            { parent: this, ...(args.protectData ? { protect: true, retainOnDelete: true } : {}) },
        );
        const ns = namespace.metadata.name;
        const child = { parent: this, dependsOn: [namespace] };
        const inMesh = { parent: this, dependsOn: [namespace, ...args.mesh] };
        const urls: Record<string, pulumi.Output<string>> = {};
        const rendered: pulumi.Output<unknown[]>[] = [];

        const metrics = config.metrics.enabled
            ? new Metrics(
                  `${name}-metrics`,
                  {
                      namespace: ns,
                      config: config.metrics,
                      sources,
                      knativeInMesh: args.strictMtls,
                      clusterCrds: args.clusterCrds,
                  },
                  inMesh,
              )
            : undefined;
        if (metrics) {
            rendered.push(metrics.rendered);
            urls.prometheus = metrics.prometheusUrl;
            urls.grafana = metrics.grafanaUrl;
        }
        if (config.logs.enabled) {
            const logs = new Logs(
                `${name}-logs`,
                {
                    namespace: ns,
                    config: config.logs,
                    protectData: args.protectData,
                    sources,
                    clusterCrds: args.clusterCrds,
                },
                child,
            );
            rendered.push(logs.rendered);
            urls.elasticsearch = logs.elasticsearchUrl;
            if (config.logs.externalElasticsearch === undefined) {
                urls.kibana = logs.kibanaUrl;
                this.namespaces.push(ELASTIC_NAMESPACE);
            }
        }
        const publicHost = (ui: string) => `${ui}.${args.domain}`;
        if (metrics && config.kiali.enabled) {
            const kiali = new Kiali(
                `${name}-kiali`,
                {
                    namespace: ns,
                    prometheusUrl: metrics.prometheusUrl,
                    grafanaUrl: metrics.grafanaUrl,
                    ...(config.expose.grafana ? { grafanaExternalUrl: `https://${publicHost("grafana")}` } : {}),
                    sources,
                },
                { parent: this, dependsOn: [namespace, ...metrics.ready] },
            );
            rendered.push(kiali.rendered);
            urls.kiali = kiali.url;
        }

        const backends = {
            grafana: METRICS_SERVICES.grafana,
            kibana: LOGS_SERVICES.kibana,
            kiali: KIALI_SERVICE,
        };
        const exposed = (Object.keys(backends) as (keyof typeof backends)[]).filter((ui) => config.expose[ui]);
        // Exposed UIs are served over TLS only: a Gateway of their own terminates it (and redirects plain HTTP).
        const gateway =
            exposed.length > 0 && config.expose.tlsSecret !== undefined
                ? new k8s.apiextensions.CustomResource(
                      `${name}-ui-gateway`,
                      uiGateway(exposed.map(publicHost), config.expose.tlsSecret),
                      inMesh,
                  )
                : undefined;
        for (const ui of gateway === undefined ? [] : exposed) {
            const backend = backends[ui];
            new k8s.apiextensions.CustomResource(
                `${name}-expose-${ui}`,
                {
                    apiVersion: "networking.istio.io/v1",
                    kind: "VirtualService",
                    metadata: { name: `${ui}-public`, namespace: ns },
                    spec: {
                        gateways: [`${MONITORING_NAMESPACE}/${UI_GATEWAY}`],
                        hosts: [publicHost(ui)],
                        http: [
                            {
                                route: [
                                    {
                                        destination: {
                                            host: `${backend.name}.${MONITORING_NAMESPACE}.svc.cluster.local`,
                                            port: { number: backend.port },
                                        },
                                    },
                                ],
                            },
                        ],
                    },
                },
                { ...inMesh, dependsOn: [...inMesh.dependsOn, ...(gateway === undefined ? [] : [gateway])] },
            );
        }

        this.rendered = pulumi.all(rendered);
        this.urls = pulumi.output(urls);
        this.publicUrls = pulumi.output(Object.fromEntries(exposed.map((ui) => [ui, `https://${publicHost(ui)}`])));
        this.registerOutputs({
            urls: this.urls,
            publicUrls: this.publicUrls,
        });
    }
}
