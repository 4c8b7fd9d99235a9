import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../config/index.ts";
import { chartCrds, type ClusterCrdsArgs } from "../crds.ts";
import { type SourcesArgs, VERSIONS, sourcesOf } from "../versions.ts";
import { PROMETHEUS_DATASOURCE, platformDashboards } from "./dashboards.ts";

/** Arguments of {@link Metrics}. */
export interface MetricsArgs extends ClusterCrdsArgs, SourcesArgs {
    /** The monitoring namespace. */
    namespace: pulumi.Input<string>;
    /** The stack's `monitoring.metrics` section. @see config/monitoring.ts */
    config: MonitoringConfig["metrics"];
    /**
     * Whether Knative's own namespaces are in the mesh (they join it under STRICT mTLS only): their pods are
     * then scraped over the mesh's mTLS, otherwise over plain HTTP, which is all a pod without a sidecar serves.
     */
    knativeInMesh: boolean;
}

/** Services the chart creates, named by `fullnameOverride` so that Kiali and the docs can rely on them. */
export const METRICS_SERVICES = {
    prometheus: { name: "prometheus-stack-prometheus", port: 9090 },
    grafana: { name: "grafana", port: 80 },
} as const;

/** The chart's Prometheus Operator Deployment (by `fullnameOverride`). */
export const OPERATOR_DEPLOYMENT = "prometheus-stack-operator";

/** Where Istio's sidecar writes the workload certificates Prometheus scrapes mTLS-only pods with. */
const ISTIO_CERTS = "/etc/istio-output-certs";

/**
 * Prometheus and Grafana from the kube-prometheus-stack chart, scraping
 * Istio (istiod, every Envoy) and Knative (activator, autoscaler, controller,
 * webhook, every queue-proxy) through ServiceMonitors and PodMonitors, with
 * the platform's dashboards provisioned as ConfigMaps for Grafana's sidecar.
 *
 * App pods accept only mTLS under STRICT mesh policy, so Prometheus gets an
 * Istio sidecar that only issues its certificates (no traffic capture) and
 * scrapes queue-proxies with them, as Istio documents. Grafana's admin
 * password comes from the stack's secret config and stays a Pulumi secret.
 *
 * ```ts
 * const metrics = new Metrics("metrics", { namespace: "monitoring", config, knativeInMesh: true });
 * ```
 * @see https://istio.io/latest/docs/ops/integrations/prometheus/
 * @see https://knative.dev/docs/serving/observability/metrics/collecting-metrics/
 */
export class Metrics extends pulumi.ComponentResource {
    public readonly prometheusUrl: pulumi.Output<string>;
    public readonly grafanaUrl: pulumi.Output<string>;
    /** What depends on Prometheus being up (Kiali). */
    public readonly ready: pulumi.Resource[];
    /** Every object its charts and manifests render, once all of them are registered (the node-pool check waits for it). */
    public readonly rendered: pulumi.Output<unknown[]>;

    constructor(name: string, args: MetricsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:monitoring:Metrics", name, {}, opts);
        const { config, namespace } = args;

        const adminSecret = new k8s.core.v1.Secret(
            `${name}-grafana-admin`,
            {
                metadata: { name: "grafana-admin", namespace },
                stringData: pulumi.secret({ "admin-user": "admin", "admin-password": config.grafanaAdminPassword }),
            },
            { parent: this },
        );
        const repository = sourcesOf(args).prometheusChartRepository;
        const values = kubePrometheusStackValues(config);
        // The chart's CRDs (its `crds` subchart) are applied and recorded by a CrdSet, before the chart.
        const crds = chartCrds(
            `${name}-prometheus-operator-crds`,
            {
                artefact: `kube-prometheus-stack ${VERSIONS.kubePrometheusStack}`,
                chart: "kube-prometheus-stack",
                version: VERSIONS.kubePrometheusStack,
                repository,
                releaseName: "prometheus-stack",
                namespace,
                values,
            },
            args.clusterCrds,
            { parent: this },
        );
        const chart = new k8s.helm.v4.Chart(
            `${name}-kube-prometheus-stack`,
            {
                chart: "kube-prometheus-stack",
                name: "prometheus-stack",
                version: VERSIONS.kubePrometheusStack,
                namespace,
                repositoryOpts: { repo: repository },
                values: { ...values, crds: { enabled: crds.inChart } },
            },
            { parent: this, dependsOn: [adminSecret, crds.set] },
        );
        // The operator turns a controller on only if that controller's CRD is installed and its RBAC
        // allows it when the operator starts, and never looks again. Helm applies a chart's CRDs first and
        // its RBAC before its workloads; Pulumi's Chart v4 applies them side by side. So once the chart is
        // applied, the operator's pod is restarted (as `kubectl rollout restart` does), once per chart version.
        const operatorRestart = new k8s.apps.v1.DeploymentPatch(
            `${name}-operator-restart`,
            {
                metadata: { name: OPERATOR_DEPLOYMENT, namespace },
                spec: {
                    template: {
                        metadata: {
                            annotations: {
                                "serverless-platform/restarted-after-chart": VERSIONS.kubePrometheusStack,
                            },
                        },
                    },
                },
            },
            { parent: this, dependsOn: [chart] },
        );
        const monitors = scrapeTargets(args.knativeInMesh).map(
            (monitor) =>
                new k8s.apiextensions.CustomResource(
                    `${name}-${monitor.metadata.name}`,
                    { ...monitor, metadata: { ...monitor.metadata, namespace } },
                    { parent: this, dependsOn: [chart] },
                ),
        );
        const dashboards = Object.entries(platformDashboards()).map(
            ([file, json]) =>
                new k8s.core.v1.ConfigMap(
                    `${name}-dashboard-${file.replace(/\.json$/, "")}`,
                    {
                        metadata: {
                            name: `dashboard-${file.replace(/\.json$/, "")}`,
                            namespace,
                            labels: { grafana_dashboard: "1" },
                        },
                        data: { [file]: JSON.stringify(json, null, 2) },
                    },
                    { parent: this },
                ),
        );

        this.ready = [chart, operatorRestart, ...monitors, ...dashboards];
        this.rendered = chart.resources;
        this.prometheusUrl = pulumi.interpolate`http://${METRICS_SERVICES.prometheus.name}.${namespace}.svc.cluster.local:${METRICS_SERVICES.prometheus.port}`;
        this.grafanaUrl = pulumi.interpolate`http://${METRICS_SERVICES.grafana.name}.${namespace}.svc.cluster.local:${METRICS_SERVICES.grafana.port}`;
        this.registerOutputs({
            prometheusUrl: this.prometheusUrl,
            grafanaUrl: this.grafanaUrl,
        });
    }
}

/** The chart's values for one environment. */
export function kubePrometheusStackValues(config: MonitoringConfig["metrics"]): Record<string, unknown> {
    const storage = config.persistent
        ? {
              storageSpec: {
                  volumeClaimTemplate: {
                      spec: {
                          ...(config.storageClass !== undefined ? { storageClassName: config.storageClass } : {}),
                          accessModes: ["ReadWriteOnce"],
                          resources: { requests: { storage: config.storageSize } },
                      },
                  },
              },
          }
        : {};
    return {
        fullnameOverride: "prometheus-stack",
        prometheusOperator: {
            // The operator's admission webhook gets its certificate from Jobs that are Helm hooks, and
            // Pulumi's Helm Chart v4 installs no hooks (it renders the chart with hooks disabled): the
            // webhook's Secret would never exist and the operator's pod, which mounts it for TLS, never
            // start. Without the webhook, the operator still checks PrometheusRules when it loads them.
            admissionWebhooks: { enabled: false },
            tls: { enabled: false },
            resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
        },
        // The chart ships these without requests or limits.
        "kube-state-metrics": {
            resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
            // Its Secrets collector needs every Secret in the cluster readable; no dashboard reads its series.
            collectorsExclude: ["secrets"],
        },
        "prometheus-node-exporter": {
            resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
            // It reads the host's /proc, /sys and / as nobody, needing no capability (kube-prometheus ships it so):
            // its exception is host access alone (policy/upstream-exceptions.ts).
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            containerSecurityContext: {
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
            },
        },
        grafana: {
            fullnameOverride: METRICS_SERVICES.grafana.name,
            resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
            admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
            // A Role in its own namespace, where the dashboards and data sources are, instead of the chart's
            // ClusterRole that reads every ConfigMap and Secret in the cluster; the sidecars read ConfigMaps only.
            rbac: { namespaced: true },
            sidecar: {
                // The dashboard and data source sidecars, which the chart ships without requests or limits.
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                dashboards: {
                    enabled: true,
                    label: "grafana_dashboard",
                    labelValue: "1",
                    // The chart templates it: Grafana's own namespace.
                    searchNamespace: "{{ .Release.Namespace }}",
                    resource: "configmap",
                },
                datasources: {
                    defaultDatasourceEnabled: true,
                    uid: PROMETHEUS_DATASOURCE.uid,
                    resource: "configmap",
                },
            },
        },
        prometheus: {
            prometheusSpec: {
                replicas: config.replicas,
                retention: config.retention,
                // Pick up every ServiceMonitor and PodMonitor, not only the chart's own.
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                resources: { requests: { cpu: "200m", memory: "1Gi" } },
                // A sidecar that only provisions Istio certificates: Prometheus joins no traffic path.
                podMetadata: {
                    labels: { "sidecar.istio.io/inject": "true" },
                    annotations: {
                        "traffic.sidecar.istio.io/includeInboundPorts": "",
                        "traffic.sidecar.istio.io/includeOutboundIPRanges": "",
                        "proxy.istio.io/config": JSON.stringify({ proxyMetadata: { OUTPUT_CERTS: ISTIO_CERTS } }),
                        "sidecar.istio.io/userVolumeMount": JSON.stringify([
                            { name: "istio-certs", mountPath: ISTIO_CERTS },
                        ]),
                    },
                },
                volumes: [{ name: "istio-certs", emptyDir: { medium: "Memory" } }],
                volumeMounts: [{ name: "istio-certs", mountPath: "/etc/prom-certs/" }],
                ...storage,
            },
        },
    };
}

/** Kubernetes object shape of a Prometheus Operator monitor. */
interface Monitor {
    apiVersion: "monitoring.coreos.com/v1";
    kind: "ServiceMonitor" | "PodMonitor";
    metadata: { name: string };
    spec: Record<string, unknown>;
}

/** Relabels a pod label into a series label, so queries can filter by Knative service and revision. */
const fromPodLabel = (podLabel: string, target: string) => ({
    sourceLabels: [`__meta_kubernetes_pod_label_${podLabel.replace(/[./-]/g, "_")}`],
    targetLabel: target,
});

/**
 * Scraping a pod in the mesh with the workload certificates Istio's sidecar writes for Prometheus:
 * accepted under STRICT and PERMISSIVE mTLS alike (as Istio documents for Prometheus).
 */
const OVER_MESH_MTLS = {
    scheme: "https",
    tlsConfig: {
        caFile: "/etc/prom-certs/root-cert.pem",
        certFile: "/etc/prom-certs/cert-chain.pem",
        keyFile: "/etc/prom-certs/key.pem",
        insecureSkipVerify: true,
    },
} as const;

/**
 * What Prometheus scrapes, the way Istio's and Knative's docs recommend. Queue-proxies are scraped over the
 * mesh's mTLS in every mode (app namespaces are always in the mesh); Knative's control plane only when
 * `knativeInMesh`.
 */
export function scrapeTargets(knativeInMesh: boolean): Monitor[] {
    const any = { any: true };
    return [
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: "istiod" },
            spec: {
                namespaceSelector: { matchNames: ["istio-system"] },
                selector: { matchLabels: { app: "istiod" } },
                endpoints: [{ port: "http-monitoring", interval: "15s" }],
            },
        },
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "PodMonitor",
            metadata: { name: "envoy-stats" },
            spec: {
                namespaceSelector: any,
                selector: { matchExpressions: [{ key: "security.istio.io/tlsMode", operator: "Exists" }] },
                podMetricsEndpoints: [{ port: "http-envoy-prom", path: "/stats/prometheus", interval: "15s" }],
            },
        },
        {
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: "knative-serving" },
            spec: {
                namespaceSelector: { matchNames: ["knative-serving"] },
                selector: {
                    matchExpressions: [
                        { key: "app", operator: "In", values: ["activator", "autoscaler", "controller", "webhook"] },
                    ],
                },
                // In the mesh under STRICT mTLS, only a client with mesh certificates gets in; out of it, plain HTTP.
                endpoints: [{ port: "http-metrics", interval: "30s", ...(knativeInMesh ? OVER_MESH_MTLS : {}) }],
            },
        },
        {
            // Through each revision's private Service, which exposes queue-proxy's metrics port: a
            // ServiceMonitor may name the certificate files Istio writes for Prometheus, a PodMonitor
            // may not (its tlsConfig takes Secret references only, SafeTLSConfig).
            apiVersion: "monitoring.coreos.com/v1",
            kind: "ServiceMonitor",
            metadata: { name: "knative-queue-proxy" },
            spec: {
                namespaceSelector: any,
                selector: { matchLabels: { "networking.internal.knative.dev/serviceType": "Private" } },
                endpoints: [
                    {
                        port: "http-usermetric",
                        path: "/metrics",
                        interval: "30s",
                        ...OVER_MESH_MTLS,
                        relabelings: [
                            fromPodLabel("serving.knative.dev/service", "kn_service_name"),
                            fromPodLabel("serving.knative.dev/configuration", "kn_configuration_name"),
                            fromPodLabel("serving.knative.dev/revision", "kn_revision_name"),
                        ],
                    },
                ],
            },
        },
    ];
}
