/** The `monitoring` config section: metrics, logs, the mesh's service graph, and which UIs are exposed. */
import type * as pulumi from "@pulumi/pulumi";
import { isDns1123Subdomain } from "../../shared/names.ts";
import { VERSIONS } from "../versions.ts";
import { type ValueOf, field, flag, optionalText, quantity, section, storageClass, wholeNumber } from "./schema.ts";

/** The Elastic Stack majors ECK 3.x runs (its README: Elasticsearch and Kibana 8+, 9+). */
const ELASTIC_STACK_VERSION = /^[89]\.\d+\.\d+$/;

const METRICS = section("Prometheus and Grafana (kube-prometheus-stack)", {
    enabled: flag("install Prometheus and Grafana", true),
    replicas: wholeNumber("Prometheus replicas", 1, 1),
    retention: field("how long Prometheus keeps samples", "7d", (problems, path, retention) => {
        if (typeof retention !== "string" || !/^\d+(ms|s|m|h|d|w|y)$/.test(retention)) {
            problems.add(path, 'must be a Prometheus duration such as "7d" or "12h"', retention);
            return "7d";
        }
        return retention;
    }),
    persistent: flag("a PersistentVolumeClaim per Prometheus replica; without it, data lives as long as the pod", true),
    storageSize: quantity("each Prometheus replica's volume", "20Gi"),
    storageClass: storageClass("the volumes' StorageClass; unset: the cluster's default"),
});

const LOGS = section("container logs: ECK's Elasticsearch and Kibana, Fluent Bit on every node", {
    enabled: flag("ship container logs (to the platform's own Elasticsearch unless externalElasticsearch)", true),
    externalElasticsearch: optionalText(
        'an Elasticsearch to ship logs to instead of the platform\'s own ("https://es.corp.example:9200")',
        (url) => /^https?:\/\//.test(url) && URL.canParse(url),
        'must be an http(s) URL such as "https://es.corp.example:9200"',
    ),
    nodes: wholeNumber("Elasticsearch nodes; 3 or more for HA", 1, 1),
    persistent: flag("a volume per Elasticsearch node, protected from `pulumi destroy`", true),
    storageSize: quantity("each Elasticsearch node's volume", "10Gi"),
    storageClass: storageClass("the volumes' StorageClass; unset: the cluster's default"),
    retentionDays: wholeNumber("days container logs are kept", 7, 1),
    version: field(
        "the Elastic Stack version of Elasticsearch and Kibana; a major upgrade needs compatibility.accept",
        VERSIONS.elasticStack,
        (problems, path, version) => {
            if (typeof version !== "string" || !ELASTIC_STACK_VERSION.test(version)) {
                problems.add(
                    path,
                    `must be an Elastic Stack version ECK ${VERSIONS.eckOperator} runs: 8.x.y or 9.x.y, such as "${VERSIONS.elasticStack}"`,
                    version,
                );
                return VERSIONS.elasticStack;
            }
            return version;
        },
    ),
});

const EXPOSED = section("UIs routed through the Istio ingress gateway at `https://<ui>.<domain>`, only over TLS", {
    grafana: flag("expose Grafana", false),
    kibana: flag("expose Kibana", false),
    kiali: flag("expose Kiali", false),
    // Checked with the others below: whether it may be unset depends on what is exposed.
    tlsSecret: field<string | undefined>(
        "the TLS certificate's Secret in istio-system (a Gateway credentialName); required to expose a UI",
        undefined,
        (_problems, _path, secret) => secret as string | undefined,
    ),
});

export const MONITORING_SCHEMA = section(
    "Monitoring: metrics, logs, the mesh's service graph, and which UIs are exposed",
    {
        metrics: METRICS,
        logs: LOGS,
        kiali: section("Kiali, the mesh's service graph", { enabled: flag("install Kiali", true) }),
        expose: EXPOSED,
    },
    (problems, path, monitoring) => {
        const { metrics, logs, kiali, expose } = monitoring;
        if (kiali.enabled && !metrics.enabled) {
            problems.add(
                `${path}.kiali.enabled`,
                "needs monitoring.metrics: Kiali draws the service graph from Prometheus",
                true,
            );
        }
        if (expose.grafana && !metrics.enabled) {
            problems.add(`${path}.expose.grafana`, "needs monitoring.metrics.enabled", true);
        }
        if (expose.kibana && (!logs.enabled || logs.externalElasticsearch !== undefined)) {
            problems.add(
                `${path}.expose.kibana`,
                "needs the platform's own Elasticsearch (logs enabled, no externalElasticsearch)",
                true,
            );
        }
        if (expose.kiali && !kiali.enabled) {
            problems.add(`${path}.expose.kiali`, "needs monitoring.kiali.enabled", true);
        }
        const exposesAny = expose.grafana || expose.kibana || expose.kiali;
        const tlsSecret = expose.tlsSecret;
        if (tlsSecret !== undefined && (typeof tlsSecret !== "string" || !isDns1123Subdomain(tlsSecret))) {
            problems.add(`${path}.expose.tlsSecret`, "must be the name of a Secret (a DNS-1123 subdomain)", tlsSecret);
        } else if (exposesAny && tlsSecret === undefined) {
            problems.add(
                `${path}.expose.tlsSecret`,
                "must name the TLS certificate's Secret in istio-system when a UI is exposed: monitoring UIs are never " +
                    "served over plain HTTP",
                undefined,
            );
        }
    },
);

type MonitoringSettings = ValueOf<typeof MONITORING_SCHEMA.fields>;

/** The monitoring section, with the passwords the stack keeps as secrets (the top-level secret keys). */
export interface MonitoringConfig extends MonitoringSettings {
    metrics: MonitoringSettings["metrics"] & {
        /** Grafana's `admin` password: the secret config key `grafanaAdminPassword`. */
        grafanaAdminPassword: pulumi.Output<string>;
    };
    logs: MonitoringSettings["logs"] & {
        /** Fluent Bit's password on the platform's Elasticsearch: the secret config key `logShipperPassword`. */
        shipperPassword: pulumi.Output<string>;
    };
}
