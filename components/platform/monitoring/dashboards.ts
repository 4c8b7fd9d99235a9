/**
 * Grafana dashboards as code: Knative Serving (per revision) and the Istio
 * mesh. Queries use only the metrics in {@link EXPORTED_METRICS}, which the
 * scrape configuration of `metrics.ts` collects.
 */

/** The Prometheus data source kube-prometheus-stack provisions, by the uid it is given in `metrics.ts`. */
export const PROMETHEUS_DATASOURCE = { type: "prometheus", uid: "prometheus" } as const;

/**
 * The metrics the dashboards may query, each with the component that exports
 * it. Knative ≥ 1.19 exports OpenTelemetry metrics through a Prometheus
 * exporter: dots become underscores, histograms in seconds get `_seconds`.
 */
export const EXPORTED_METRICS: Readonly<Record<string, string>> = {
    http_server_request_duration_seconds_count:
        "queue-proxy: otelhttp http.server.request.duration (knative/serving pkg/queue/sharedmain)",
    http_server_request_duration_seconds_bucket: "queue-proxy: otelhttp http.server.request.duration",
    kn_revision_request_concurrency: "activator: kn.revision.request.concurrency (pkg/activator/handler/metrics.go)",
    kn_revision_concurrency_stable: "autoscaler: kn.revision.concurrency.stable (pkg/autoscaler/scaling/metrics.go)",
    kn_revision_pods_desired: "autoscaler: kn.revision.pods.desired (pkg/autoscaler/scaling/metrics.go)",
    kn_revision_pods_count: "autoscaler: kn.revision.pods.count (pkg/reconciler/autoscaling/kpa/metrics.go)",
    istio_requests_total: "Envoy sidecars and gateways (Istio standard metrics)",
    istio_request_duration_milliseconds_bucket: "Envoy sidecars and gateways (Istio standard metrics)",
    pilot_xds_pushes: "istiod",
    pilot_proxy_convergence_time_bucket: "istiod",
};

interface Target {
    expr: string;
    legend: string;
}

interface Panel {
    title: string;
    unit: string;
    targets: Target[];
}

/** Revision labels: queue-proxy series get them from pod labels (see the knative-queue-proxy ServiceMonitor), Knative's own series carry them. */
const SERVICE_FILTER = 'namespace=~"$namespace", kn_service_name=~"$service"';
const KNATIVE_FILTER = 'k8s_namespace_name=~"$namespace", kn_service_name=~"$service"';

const KNATIVE_PANELS: Panel[] = [
    {
        title: "Requests per second, by revision",
        unit: "reqps",
        targets: [
            {
                expr: `sum by (kn_revision_name) (rate(http_server_request_duration_seconds_count{${SERVICE_FILTER}}[1m]))`,
                legend: "{{kn_revision_name}}",
            },
        ],
    },
    {
        title: "Latency percentiles",
        unit: "s",
        targets: [0.5, 0.95, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le, kn_revision_name) (rate(http_server_request_duration_seconds_bucket{${SERVICE_FILTER}}[5m])))`,
            legend: `p${Math.round(q * 100)} {{kn_revision_name}}`,
        })),
    },
    {
        title: "5xx responses per second",
        unit: "reqps",
        targets: [
            {
                expr: `sum by (kn_revision_name) (rate(http_server_request_duration_seconds_count{${SERVICE_FILTER}, http_response_status_code=~"5.."}[1m]))`,
                legend: "{{kn_revision_name}}",
            },
        ],
    },
    {
        title: "Concurrency (autoscaler's stable window)",
        unit: "short",
        targets: [
            {
                expr: `sum by (kn_revision_name) (kn_revision_concurrency_stable{${KNATIVE_FILTER}})`,
                legend: "{{kn_revision_name}}",
            },
        ],
    },
    {
        title: "Pods: desired vs actual",
        unit: "short",
        targets: [
            {
                expr: `sum by (kn_revision_name) (kn_revision_pods_desired{${KNATIVE_FILTER}})`,
                legend: "desired {{kn_revision_name}}",
            },
            {
                expr: `sum by (kn_revision_name) (kn_revision_pods_count{${KNATIVE_FILTER}})`,
                legend: "actual {{kn_revision_name}}",
            },
        ],
    },
    {
        title: "Scale-from-zero (cold starts) in the last hour",
        unit: "short",
        targets: [
            {
                // Each cold start is one 0→N and, later, one N→0 change of "has pods".
                expr: `ceil(sum by (kn_revision_name) (changes((kn_revision_pods_count{${KNATIVE_FILTER}} > bool 0)[1h:1m])) / 2)`,
                legend: "{{kn_revision_name}}",
            },
        ],
    },
    {
        title: "Requests waiting in the activator (cold start buffer)",
        unit: "short",
        targets: [
            {
                expr: `sum by (kn_revision_name) (kn_revision_request_concurrency{${KNATIVE_FILTER}})`,
                legend: "{{kn_revision_name}}",
            },
        ],
    },
];

const MESH_PANELS: Panel[] = [
    {
        title: "Requests per second, by destination service",
        unit: "reqps",
        targets: [
            {
                expr: 'sum by (destination_service) (rate(istio_requests_total{reporter="destination"}[1m]))',
                legend: "{{destination_service}}",
            },
        ],
    },
    {
        title: "Success rate (non-5xx)",
        unit: "percentunit",
        targets: [
            {
                expr: 'sum(rate(istio_requests_total{reporter="destination", response_code!~"5.."}[5m])) / sum(rate(istio_requests_total{reporter="destination"}[5m]))',
                legend: "mesh",
            },
        ],
    },
    {
        title: "p95 latency, by destination service",
        unit: "ms",
        targets: [
            {
                expr: 'histogram_quantile(0.95, sum by (le, destination_service) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[5m])))',
                legend: "{{destination_service}}",
            },
        ],
    },
    {
        title: "istiod configuration pushes",
        unit: "ops",
        targets: [{ expr: "sum by (type) (rate(pilot_xds_pushes[5m]))", legend: "{{type}}" }],
    },
    {
        title: "Proxy convergence time (p99)",
        unit: "s",
        targets: [
            {
                expr: "histogram_quantile(0.99, sum by (le) (rate(pilot_proxy_convergence_time_bucket[5m])))",
                legend: "p99",
            },
        ],
    },
];

function dashboard(
    uid: string,
    title: string,
    panels: Panel[],
    variables: { name: string; query: string }[],
): Record<string, unknown> {
    return {
        uid,
        title,
        tags: ["serverless-platform"],
        schemaVersion: 39,
        editable: false,
        time: { from: "now-3h", to: "now" },
        refresh: "30s",
        templating: {
            list: variables.map((v) => ({
                name: v.name,
                type: "query",
                datasource: PROMETHEUS_DATASOURCE,
                query: { query: v.query, refId: v.name },
                includeAll: true,
                multi: true,
                current: { text: "All", value: "$__all" },
                refresh: 2,
            })),
        },
        panels: panels.map((panel, i) => ({
            id: i + 1,
            type: "timeseries",
            title: panel.title,
            datasource: PROMETHEUS_DATASOURCE,
            gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
            fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
            targets: panel.targets.map((t, j) => ({
                refId: String.fromCharCode(65 + j),
                datasource: PROMETHEUS_DATASOURCE,
                expr: t.expr,
                legendFormat: t.legend,
            })),
        })),
    };
}

/** The dashboards, by file name, as Grafana's sidecar loads them. */
export function platformDashboards(): Record<string, Record<string, unknown>> {
    return {
        "knative-serving.json": dashboard("knative-serving", "Knative Serving: revisions", KNATIVE_PANELS, [
            { name: "namespace", query: "label_values(kn_revision_pods_count, k8s_namespace_name)" },
            {
                name: "service",
                query: 'label_values(kn_revision_pods_count{k8s_namespace_name=~"$namespace"}, kn_service_name)',
            },
        ]),
        "istio-mesh.json": dashboard("istio-mesh", "Istio mesh", MESH_PANELS, []),
    };
}
