import { describe, expect, test } from "vitest";
import { EXPORTED_METRICS, PROMETHEUS_DATASOURCE } from "../components/platform/monitoring/dashboards.ts";
import { VERSIONS } from "../components/platform/versions.ts";
import { type Registered, dependsOnNames, find, ofType, runProgram, secretValue, valueOf } from "./harness.ts";
import { DEPLOY_TIME_CONFIG, platformUnderTest, STACKS, deployPlatform, stackConfig } from "./stacks.ts";

const CHART = "kubernetes:helm.sh/v4:Chart";

const deploy = deployPlatform;

const values = (resources: Registered[], name: string) => find(resources, CHART, name).inputs.values;

describe.each(STACKS)("monitoring on %s", async (env) => {
    const { resources, outputs } = await deploy(env);

    test("charts are pinned and come from their upstream repositories", () => {
        const charts = ofType(resources, CHART)
            .filter((r) => r.name.startsWith("monitoring-"))
            .map((r) => [r.inputs.chart, r.inputs.version, r.inputs.repositoryOpts.repo])
            .sort();
        expect(charts).toEqual([
            ["eck-operator", VERSIONS.eckOperator, "https://helm.elastic.co"],
            ["fluent-bit", VERSIONS.fluentBit, "https://fluent.github.io/helm-charts"],
            ["kiali-server", VERSIONS.kiali, "https://kiali.org/helm-charts"],
            [
                "kube-prometheus-stack",
                VERSIONS.kubePrometheusStack,
                "https://prometheus-community.github.io/helm-charts",
            ],
        ]);
    });

    test("the Prometheus Operator starts again once the chart's CRDs and RBAC are applied, once per chart version", () => {
        const restart = find(resources, "kubernetes:apps/v1:DeploymentPatch", "monitoring-metrics-operator-restart");
        expect(restart.inputs.metadata).toEqual({ name: "prometheus-stack-operator", namespace: "monitoring" });
        // Only the pod template's annotation: the chart keeps every other field.
        expect(restart.inputs.spec).toEqual({
            template: {
                metadata: {
                    annotations: { "serverless-platform/restarted-after-chart": VERSIONS.kubePrometheusStack },
                },
            },
        });
        expect(dependsOnNames(restart)).toEqual(["monitoring-metrics-kube-prometheus-stack"]);
        expect(values(resources, "monitoring-metrics-kube-prometheus-stack").fullnameOverride).toBe("prometheus-stack");
    });

    test("Kiali reads the Prometheus and Grafana the metrics chart creates, and knows Istio", () => {
        const kps = values(resources, "monitoring-metrics-kube-prometheus-stack");
        const kiali = values(resources, "monitoring-kiali");
        expect(kiali.external_services.prometheus.url).toBe(
            `http://${kps.fullnameOverride}-prometheus.monitoring.svc.cluster.local:9090`,
        );
        expect(kiali.external_services.grafana.internal_url).toBe(
            `http://${kps.grafana.fullnameOverride}.monitoring.svc.cluster.local:80`,
        );
        expect(kiali.istio_namespace).toBe("istio-system");
        expect(kiali.auth.strategy).toBe("token");
        // Left unset, the chart draws a new signing key at every render: a change at every preview.
        expect(kiali.login_token.signing_key).toBe("secret:kiali-signing-key:key");
        const signingKey = find(resources, "kubernetes:core/v1:Secret", "monitoring-kiali-signing-key");
        expect(signingKey.options.ignoreChanges).toEqual(["stringData", "data"]);
        expect(secretValue(signingKey.inputs.stringData)).toEqual({ key: expect.stringMatching(/^[0-9a-f]{32}$/) });
        expect(dependsOnNames(find(resources, "serverless-platform:monitoring:Kiali", "monitoring-kiali"))).toContain(
            "monitoring-metrics-kube-prometheus-stack",
        );
    });

    test("Fluent Bit ships to the Elasticsearch ECK creates, over verified TLS, with Kubernetes labels", () => {
        const es = find(
            resources,
            "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch",
            "monitoring-logs-elasticsearch",
        );
        const fluent = values(resources, "monitoring-logs-fluent-bit").config;
        expect(fluent.outputs).toContain(`Host ${es.inputs.metadata.name}-es-http.monitoring.svc.cluster.local`);
        expect(fluent.outputs).toContain("Port 9200");
        expect(fluent.outputs).toContain("tls.verify On");
        expect(fluent.filters).toContain("Labels On");
        expect(es.inputs.spec.auth.fileRealm).toEqual([{ secretName: "fluent-bit-elasticsearch" }]);
    });

    test("passwords come from the stack's secret config, stay in their Secrets, and are no stack output", () => {
        const grafanaSecret = find(resources, "kubernetes:core/v1:Secret", "monitoring-metrics-grafana-admin");
        expect(secretValue(grafanaSecret.inputs.stringData)).toEqual({
            "admin-user": "admin",
            "admin-password": DEPLOY_TIME_CONFIG["serverless-platform:grafanaAdminPassword"],
        });
        expect(
            secretValue(find(resources, "kubernetes:core/v1:Secret", "monitoring-logs-shipper").inputs.stringData),
        ).toEqual({
            username: "fluent-bit",
            password: DEPLOY_TIME_CONFIG["serverless-platform:logShipperPassword"],
            roles: "log-shipper",
        });
        expect(values(resources, "monitoring-metrics-kube-prometheus-stack").grafana.admin.existingSecret).toBe(
            "grafana-admin",
        );
        expect(outputs.grafanaAdminPassword).toBeUndefined();
    });

    test(env === "dev" ? "dev is small and keeps nothing" : "data is persistent and protected from deletion", () => {
        const es = find(
            resources,
            "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch",
            "monitoring-logs-elasticsearch",
        );
        const prometheus = values(resources, "monitoring-metrics-kube-prometheus-stack").prometheus.prometheusSpec;
        const nodeSet = es.inputs.spec.nodeSets[0];
        // The form ECK's own update writes back, so the platform keeps owning the node sets.
        expect(nodeSet.podTemplate.metadata).toEqual({});
        if (env === "dev") {
            expect(nodeSet.count).toBe(1);
            expect(nodeSet.volumeClaimTemplates).toBeUndefined();
            expect(prometheus.storageSpec).toBeUndefined();
            expect(prometheus.retention).toBe("3d");
            expect(es.options.protect).toBe(false);
            expect(find(resources, "kubernetes:core/v1:Namespace", "monitoring-namespace").options.protect).toBe(
                undefined,
            );
        } else {
            expect(nodeSet.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(
                env === "prod" ? "500Gi" : "50Gi",
            );
            expect(prometheus.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe(
                env === "prod" ? "200Gi" : "50Gi",
            );
            expect(es.options).toMatchObject({ protect: true, retainOnDelete: true });
            // The namespace holds the data: deleting it, or replacing it, would take the data with it.
            expect(find(resources, "kubernetes:core/v1:Namespace", "monitoring-namespace").options).toMatchObject({
                protect: true,
                retainOnDelete: true,
            });
            expect(es.inputs.spec.volumeClaimDeletePolicy).toBe("DeleteOnScaledownOnly");
            // ECK's CRDs go with the data: the operator's namespace and every object of its chart are retained.
            expect(
                find(resources, "kubernetes:core/v1:Namespace", "monitoring-logs-elastic-system").options,
            ).toMatchObject({
                retainOnDelete: true,
            });
            expect(
                find(resources, "kubernetes:helm.sh/v4:Chart", "monitoring-logs-eck-operator").options.transforms,
            ).toHaveLength(1);
        }
        if (env === "prod") {
            expect(nodeSet.count).toBe(3);
            expect(prometheus.replicas).toBe(2);
            expect(nodeSet.volumeClaimTemplates[0].spec.storageClassName).toBe("fast-ssd");
        }
        const retention = ofType(resources, "kubernetes:batch/v1:Job")[0];
        expect(retention?.inputs.metadata.name).toBe(`logs-retention-${{ dev: 3, staging: 7, prod: 30 }[env]}d`);
    });

    test("the log data needs nothing outside monitoring's log pieces: a destroy refused at it keeps only them", () => {
        // What the engine keeps with a resource it cannot delete: its dependencies and its parents, and theirs.
        const byName = new Map(resources.map((r) => [r.name, r]));
        const kept = new Set<string>();
        const keep = (name: string) => {
            const resource = byName.get(name);
            if (kept.has(name) || resource === undefined) return;
            kept.add(name);
            for (const needed of [...dependsOnNames(resource), resource.parentName ?? ""]) keep(needed);
        };
        keep("monitoring-logs-elasticsearch");
        expect([...kept].sort()).toEqual([
            "monitoring",
            "monitoring-logs",
            "monitoring-logs-eck-crds",
            "monitoring-logs-eck-operator",
            "monitoring-logs-elastic-system",
            "monitoring-logs-elasticsearch",
            "monitoring-logs-roles",
            "monitoring-logs-shipper",
            "monitoring-namespace",
        ]);
        // Prometheus scrapes over the mesh's mTLS, with the certificates its injected sidecar writes.
        expect(dependsOnNames(find(resources, "serverless-platform:monitoring:Metrics", "monitoring-metrics"))).toEqual(
            expect.arrayContaining(["istio-istiod", "istio-cni"]),
        );
    });

    test(env === "staging" ? "staging exposes Grafana, explicitly, over TLS only" : "no UI is exposed", async () => {
        const services = ofType(resources, "kubernetes:networking.istio.io/v1:VirtualService");
        const gateways = ofType(resources, "kubernetes:networking.istio.io/v1:Gateway");
        if (env === "staging") {
            expect(gateways.map((g) => g.inputs.spec)).toEqual([
                {
                    selector: { istio: "ingressgateway" },
                    servers: [
                        {
                            port: { number: 443, name: "https", protocol: "HTTPS" },
                            hosts: ["grafana.staging.games.example.com"],
                            tls: { mode: "SIMPLE", credentialName: "monitoring-ui-tls" },
                        },
                        {
                            port: { number: 80, name: "http", protocol: "HTTP" },
                            hosts: ["grafana.staging.games.example.com"],
                            tls: { httpsRedirect: true },
                        },
                    ],
                },
            ]);
            expect(services.map((s) => s.inputs.spec)).toEqual([
                {
                    gateways: ["monitoring/monitoring-ui"],
                    hosts: ["grafana.staging.games.example.com"],
                    http: [
                        {
                            route: [
                                { destination: { host: "grafana.monitoring.svc.cluster.local", port: { number: 80 } } },
                            ],
                        },
                    ],
                },
            ]);
            expect(await valueOf(outputs.monitoringPublicUrls)).toEqual({
                grafana: "https://grafana.staging.games.example.com",
            });
        } else {
            expect(services).toEqual([]);
            expect(gateways).toEqual([]);
        }
    });

    test("Prometheus scrapes Istio and Knative the documented ways", () => {
        const monitors = resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/v1:"));
        expect(monitors.map((m) => `${m.inputs.kind}/${m.inputs.metadata.name}`).sort()).toEqual([
            "PodMonitor/envoy-stats",
            "ServiceMonitor/istiod",
            "ServiceMonitor/knative-queue-proxy",
            "ServiceMonitor/knative-serving",
        ]);
        // Through each revision's private Service: only a ServiceMonitor may name certificate files.
        const queueProxyMonitor = monitors.find((m) => m.inputs.metadata.name === "knative-queue-proxy")!.inputs;
        expect(queueProxyMonitor.spec.selector).toEqual({
            matchLabels: { "networking.internal.knative.dev/serviceType": "Private" },
        });
        const queueProxy = queueProxyMonitor.spec.endpoints[0];
        expect(queueProxy).toMatchObject({ port: "http-usermetric", scheme: "https" });
        // Knative's own pods are in the mesh too: under STRICT mTLS, plain HTTP would be refused.
        const serving = monitors.find((m) => m.inputs.metadata.name === "knative-serving")!.inputs.spec.endpoints[0];
        expect(serving).toMatchObject({ port: "http-metrics", scheme: "https" });
        expect(serving.tlsConfig).toEqual(queueProxy.tlsConfig);
        expect(queueProxy.relabelings.map((r: any) => r.targetLabel)).toEqual([
            "kn_service_name",
            "kn_configuration_name",
            "kn_revision_name",
        ]);
        const kps = values(resources, "monitoring-metrics-kube-prometheus-stack").prometheus.prometheusSpec;
        expect(kps.podMonitorSelectorNilUsesHelmValues).toBe(false);
        expect(kps.podMetadata.labels).toEqual({ "sidecar.istio.io/inject": "true" });
    });

    // Prod refuses anything but STRICT.
    test.runIf(env !== "prod")(
        "under PERMISSIVE mTLS Knative's namespaces leave the mesh, and its control plane is scraped over plain HTTP",
        async () => {
            const istio = JSON.parse(stackConfig(env)["serverless-platform:istio"] ?? "{}") as object;
            const permissive = await deploy(env, {
                "serverless-platform:istio": JSON.stringify({ ...istio, mtls: "PERMISSIVE" }),
            });
            const endpoint = (name: string) =>
                find(
                    permissive.resources,
                    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
                    `monitoring-metrics-${name}`,
                ).inputs.spec.endpoints[0];
            expect(endpoint("knative-serving")).toEqual({ port: "http-metrics", interval: "30s" });
            // App namespaces stay in the mesh: their sidecars take the mesh's mTLS in either mode.
            expect(endpoint("knative-queue-proxy")).toMatchObject({ scheme: "https" });
        },
    );

    test("Grafana reads ConfigMaps in its own namespace, where the dashboards are; kube-state-metrics reads no Secret", () => {
        const kps = values(resources, "monitoring-metrics-kube-prometheus-stack");
        // A Role, not the chart's ClusterRole over every ConfigMap and Secret (what it grants: e2e/platform-dev).
        expect(kps.grafana.rbac).toEqual({ namespaced: true });
        expect(kps.grafana.sidecar.dashboards).toMatchObject({
            searchNamespace: "{{ .Release.Namespace }}",
            resource: "configmap",
        });
        expect(kps.grafana.sidecar.datasources.resource).toBe("configmap");
        const dashboards = ofType(resources, "kubernetes:core/v1:ConfigMap").filter(
            (c) => c.inputs.metadata.labels?.grafana_dashboard === "1",
        );
        expect(new Set(dashboards.map((d) => d.inputs.metadata.namespace))).toEqual(new Set(["monitoring"]));
        expect(kps["kube-state-metrics"].collectorsExclude).toEqual(["secrets"]);
    });

    test("dashboards: valid JSON, wired to the provisioned data source, querying only exported metrics", () => {
        const dashboards = ofType(resources, "kubernetes:core/v1:ConfigMap").filter(
            (c) => c.inputs.metadata.labels?.grafana_dashboard === "1",
        );
        expect(dashboards.map((d) => d.inputs.metadata.name).sort()).toEqual([
            "dashboard-istio-mesh",
            "dashboard-knative-serving",
        ]);
        const kps = values(resources, "monitoring-metrics-kube-prometheus-stack");
        expect(kps.grafana.sidecar.datasources.uid).toBe(PROMETHEUS_DATASOURCE.uid);
        for (const configMap of dashboards) {
            for (const text of Object.values(configMap.inputs.data as Record<string, string>)) {
                const dashboard = JSON.parse(text);
                expect(dashboard.panels.length).toBeGreaterThan(3);
                for (const panel of dashboard.panels) {
                    expect(panel.datasource, panel.title).toEqual(PROMETHEUS_DATASOURCE);
                    for (const target of panel.targets) {
                        expect(target.datasource).toEqual(PROMETHEUS_DATASOURCE);
                        for (const metric of metricNames(target.expr)) {
                            expect(Object.keys(EXPORTED_METRICS), `${panel.title}: ${metric}`).toContain(metric);
                        }
                    }
                }
            }
        }
    });
});

/** Metric names in a PromQL expression: identifiers followed by a selector, minus functions, keywords and labels. */
function metricNames(expr: string): string[] {
    const withoutStrings = expr.replace(/"[^"]*"/g, '""');
    const withoutLabels = withoutStrings.replace(/\{[^}]*\}/g, "{}").replace(/\b(by|without)\s*\([^)]*\)/g, "");
    const functions = new Set(["sum", "rate", "histogram_quantile", "ceil", "changes", "bool", "le"]);
    return [...withoutLabels.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?=\s*[{[)]|\s*$|\s*>)/g)]
        .map((m) => m[1] as string)
        .filter((name) => !functions.has(name) && !/^\d/.test(name));
}

describe("monitoring toggles", () => {
    test("an external Elasticsearch: no ECK, Fluent Bit ships there", async () => {
        const { resources } = await deploy("dev", {
            "serverless-platform:monitoring": JSON.stringify({
                logs: { externalElasticsearch: "https://es.corp.example:9243" },
            }),
        });
        expect(ofType(resources, "kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch")).toEqual([]);
        expect(ofType(resources, CHART).map((c) => c.inputs.chart)).not.toContain("eck-operator");
        const outputs = values(resources, "monitoring-logs-fluent-bit").config.outputs;
        expect(outputs).toContain("Host es.corp.example");
        expect(outputs).toContain("Port 9243");
    });

    test("everything off: only the namespace remains", async () => {
        const { resources } = await deploy("dev", {
            "serverless-platform:monitoring": JSON.stringify({
                metrics: { enabled: false },
                logs: { enabled: false },
                kiali: { enabled: false },
            }),
        });
        expect(resources.filter((r) => r.name.startsWith("monitoring-") && r.type === CHART)).toEqual([]);
        expect(find(resources, "kubernetes:core/v1:Namespace", "monitoring-namespace").inputs.metadata.name).toBe(
            "monitoring",
        );
    });
});

describe("the Elastic Stack version", () => {
    test("is the pin unless the stack holds it back, for Elasticsearch, Kibana and the versions output alike", async () => {
        const versionsOf = async (override: Record<string, string>) => {
            const { resources, outputs } = await deployPlatform("staging", override);
            const spec = (type: string, name: string) => find(resources, type, name).inputs.spec.version as string;
            return [
                spec("kubernetes:elasticsearch.k8s.elastic.co/v1:Elasticsearch", "monitoring-logs-elasticsearch"),
                spec("kubernetes:kibana.k8s.elastic.co/v1:Kibana", "monitoring-logs-kibana"),
                outputs.versions.elasticStack as string,
            ];
        };
        expect(await versionsOf({})).toEqual([VERSIONS.elasticStack, VERSIONS.elasticStack, VERSIONS.elasticStack]);
        const monitoring = JSON.parse(stackConfig("staging")["serverless-platform:monitoring"] ?? "{}");
        const held = JSON.stringify({ ...monitoring, logs: { ...monitoring.logs, version: "8.17.10" } });
        expect(await versionsOf({ "serverless-platform:monitoring": held })).toEqual(["8.17.10", "8.17.10", "8.17.10"]);
    });
});

describe("bad monitoring config fails clearly", () => {
    const S = 'Stack "dev" (stacks/Pulumi.dev.yaml)';
    const cases: [string, object, string][] = [
        [
            "an unknown key",
            { metrics: { retension: "7d" } },
            `${S}: monitoring.metrics.retension is not a known key; known keys: enabled, replicas, retention, persistent, storageSize, storageClass (got "retension")`,
        ],
        [
            "a bad retention",
            { metrics: { retention: "7 days" } },
            `${S}: monitoring.metrics.retention must be a Prometheus duration such as "7d" or "12h" (got "7 days")`,
        ],
        [
            "a bad storage size",
            { logs: { storageSize: "lots" } },
            `${S}: monitoring.logs.storageSize must be a positive Kubernetes quantity such as "20Gi" (got "lots")`,
        ],
        [
            "zero Elasticsearch nodes",
            { logs: { nodes: 0 } },
            `${S}: monitoring.logs.nodes must be a whole number ≥ 1 (got 0)`,
        ],
        [
            "an external Elasticsearch that is not a URL",
            { logs: { externalElasticsearch: "es.corp:9200" } },
            `${S}: monitoring.logs.externalElasticsearch must be an http(s) URL such as "https://es.corp.example:9200" (got "es.corp:9200")`,
        ],
        [
            "an Elastic Stack ECK does not run",
            { logs: { version: "7.17.0" } },
            `${S}: monitoring.logs.version must be an Elastic Stack version ECK 3.5.0 runs: 8.x.y or 9.x.y, such as "8.19.18" (got "7.17.0")`,
        ],
        [
            "Kiali without Prometheus",
            { metrics: { enabled: false } },
            `${S}: monitoring.kiali.enabled needs monitoring.metrics: Kiali draws the service graph from Prometheus (got true)`,
        ],
        [
            "exposing Kibana of an external Elasticsearch",
            { logs: { externalElasticsearch: "https://es.corp:9200" }, expose: { kibana: true } },
            `${S}: monitoring.expose.kibana needs the platform's own Elasticsearch (logs enabled, no externalElasticsearch) (got true)`,
        ],
        [
            "a UI exposed without a certificate",
            { expose: { grafana: true } },
            `${S}: monitoring.expose.tlsSecret must name the TLS certificate's Secret in istio-system when a UI is exposed: monitoring UIs are never served over plain HTTP (got undefined)`,
        ],
        [
            "exposure that is not a boolean",
            { expose: { grafana: "yes" } },
            `${S}: monitoring.expose.grafana must be true or false (got "yes")`,
        ],
    ];
    test.each(cases)("%s", async (_, monitoring, message) => {
        const registered = await runProgram(
            async () => {
                await expect(platformUnderTest()).rejects.toThrow(message);
            },
            { config: { ...stackConfig("dev"), "serverless-platform:monitoring": JSON.stringify(monitoring) } },
        );
        expect(registered.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});
