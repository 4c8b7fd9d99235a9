import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringConfig } from "../config/index.ts";
import { chartCrds, type ClusterCrdsArgs } from "../crds.ts";
import { type SourcesArgs, VERSIONS, sourcesOf } from "../versions.ts";

/** Arguments of {@link Logs}. */
export interface LogsArgs extends ClusterCrdsArgs, SourcesArgs {
    /** The monitoring namespace. */
    namespace: pulumi.Input<string>;
    /** The stack's `monitoring.logs` section, with Fluent Bit's password. @see config/monitoring.ts */
    config: MonitoringConfig["logs"];
    /** Protect the Elasticsearch data from `pulumi destroy` and accidental replacement. */
    protectData: boolean;
}

/** Where ECK's operator runs (the chart's namespace). */
export const ELASTIC_NAMESPACE = "elastic-system";

/** Names the ECK operator derives from the Elasticsearch and Kibana resources. */
export const LOGS_SERVICES = {
    elasticsearch: { name: "logs-es-http", port: 9200 },
    kibana: { name: "logs-kb-http", port: 5601 },
    /** ECK's generated password of the `elastic` superuser, for Kibana logins. */
    elasticUserSecret: "logs-es-elastic-user",
} as const;

/** The Secret Fluent Bit reads its Elasticsearch credentials from (`username`, `password`). */
export const SHIPPER_SECRET = "fluent-bit-elasticsearch";
/** Container logs land in this data stream; retention applies to `logs-k8s-*`. */
export const LOG_DATA_STREAM = "logs-k8s-default";

/**
 * Container logs, searchable in Kibana: Elasticsearch and Kibana run by the
 * ECK operator, and Fluent Bit on every node shipping container logs with
 * their Kubernetes metadata (namespace, pod, and the Knative service and
 * revision labels). Logs are kept `retentionDays` days (a data stream
 * lifecycle). Fluent Bit writes as a user of its own whose password is the
 * stack's secret `logShipperPassword`; Kibana users log in as `elastic`
 * (ECK keeps that password in the `logs-es-elastic-user` Secret).
 *
 * With `externalElasticsearch`, only Fluent Bit is installed; it reads its
 * credentials from the `fluent-bit-elasticsearch` Secret the company provides.
 * @see https://www.elastic.co/guide/en/cloud-on-k8s/current/index.html
 */
export class Logs extends pulumi.ComponentResource {
    public readonly elasticsearchUrl: pulumi.Output<string>;
    /** In-cluster Kibana URL, or an empty string with an external Elasticsearch. */
    public readonly kibanaUrl: pulumi.Output<string>;
    /** Every object its charts and manifests render, once all of them are registered (the node-pool check waits for it). */
    public readonly rendered: pulumi.Output<unknown[]>;

    constructor(name: string, args: LogsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:monitoring:Logs", name, {}, opts);
        const { config, namespace } = args;
        const external = config.externalElasticsearch;

        if (external === undefined) {
            const { ready, operator } = managedElasticsearch(this, name, args);
            this.elasticsearchUrl = pulumi.interpolate`https://${LOGS_SERVICES.elasticsearch.name}.${namespace}.svc.cluster.local:${LOGS_SERVICES.elasticsearch.port}`;
            this.kibanaUrl = pulumi.interpolate`http://${LOGS_SERVICES.kibana.name}.${namespace}.svc.cluster.local:${LOGS_SERVICES.kibana.port}`;
            const shipper = fluentBit(this, name, args, this.elasticsearchUrl, ready);
            this.rendered = pulumi.all([operator.resources, shipper.resources]);
        } else {
            this.elasticsearchUrl = pulumi.output(external);
            this.kibanaUrl = pulumi.output("");
            this.rendered = fluentBit(this, name, args, this.elasticsearchUrl, []).resources;
        }
        this.registerOutputs({
            elasticsearchUrl: this.elasticsearchUrl,
            kibanaUrl: this.kibanaUrl,
        });
    }
}

/** ECK's operator, and what the log shipper waits for: the Elasticsearch, Kibana and retention objects. */
function managedElasticsearch(
    parent: pulumi.Resource,
    name: string,
    args: LogsArgs,
): { ready: pulumi.Resource[]; operator: k8s.helm.v4.Chart } {
    const { config, namespace } = args;
    // Deleting ECK's CRDs deletes every Elasticsearch with them, protected or not: with protected data,
    // Pulumi lets go of the operator, its CRDs and its namespace instead of deleting them.
    const keptWithData: pulumi.CustomResourceOptions = args.protectData ? { retainOnDelete: true } : {};
    const operatorNamespace = new k8s.core.v1.Namespace(
        `${name}-elastic-system`,
        { metadata: { name: ELASTIC_NAMESPACE } },
        { parent, ...keptWithData },
    );
    const sources = sourcesOf(args);
    const repository = sources.elasticChartRepository;
    // The chart's CRDs (its eck-operator-crds subchart) are applied and recorded by a CrdSet, before the operator.
    const crds = chartCrds(
        `${name}-eck-crds`,
        {
            artefact: `eck-operator ${VERSIONS.eckOperator}`,
            chart: "eck-operator",
            version: VERSIONS.eckOperator,
            repository,
            releaseName: "elastic-operator",
            namespace: ELASTIC_NAMESPACE,
            values: { installCRDs: true },
        },
        args.clusterCrds,
        { parent },
    );
    const operator = new k8s.helm.v4.Chart(
        `${name}-eck-operator`,
        {
            chart: "eck-operator",
            name: "elastic-operator",
            version: VERSIONS.eckOperator,
            namespace: ELASTIC_NAMESPACE,
            repositoryOpts: { repo: repository },
            values: {
                installCRDs: crds.inChart,
                // The chart's pod security context, with the RuntimeDefault seccomp profile it leaves out.
                podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            },
        },
        {
            parent,
            dependsOn: [operatorNamespace, crds.set],
            ...(args.protectData
                ? { transforms: [({ props, opts }) => ({ props, opts: { ...opts, ...keptWithData } })] }
                : {}),
        },
    );

    // One Secret serves both sides: ECK's file realm reads username/password/roles, Fluent Bit reads username/password.
    const shipper = new k8s.core.v1.Secret(
        `${name}-shipper`,
        {
            metadata: { name: SHIPPER_SECRET, namespace },
            type: "kubernetes.io/basic-auth",
            stringData: pulumi.secret({
                username: "fluent-bit",
                password: config.shipperPassword,
                roles: "log-shipper",
            }),
        },
        { parent },
    );
    const roles = new k8s.core.v1.Secret(
        `${name}-roles`,
        { metadata: { name: "logs-roles", namespace }, stringData: { "roles.yml": shipperRole() } },
        { parent },
    );
    const elasticsearch = new k8s.apiextensions.CustomResource(
        `${name}-elasticsearch`,
        elasticsearchSpec(namespace, config),
        {
            parent,
            dependsOn: [operator, shipper, roles],
            // The data is the point: `pulumi destroy` must not take it by accident.
            protect: args.protectData,
            retainOnDelete: args.protectData,
        },
    );
    const kibana = new k8s.apiextensions.CustomResource(
        `${name}-kibana`,
        {
            apiVersion: "kibana.k8s.elastic.co/v1",
            kind: "Kibana",
            metadata: { name: "logs", namespace },
            spec: {
                version: config.version,
                count: config.nodes > 1 ? 2 : 1,
                elasticsearchRef: { name: "logs" },
                // Served through the mesh gateway when exposed; no self-signed certificate in between.
                http: { tls: { selfSignedCertificate: { disabled: true } } },
            },
        },
        { parent, dependsOn: [elasticsearch] },
    );
    const retention = new k8s.batch.v1.Job(
        `${name}-retention`,
        retentionJob(namespace, config.retentionDays, sources.retentionJobImage),
        {
            parent,
            dependsOn: [elasticsearch],
        },
    );
    return { ready: [elasticsearch, kibana, retention], operator };
}

/** Fluent Bit may create and write the log data streams, and manage their template; nothing else. */
export function shipperRole(): string {
    return [
        "log-shipper:",
        '  cluster: ["monitor", "manage_index_templates"]',
        "  indices:",
        '    - names: ["logs-k8s-*"]',
        '      privileges: ["create_doc", "create_index", "auto_configure", "view_index_metadata"]',
        "",
    ].join("\n");
}

/** The Elasticsearch cluster: `nodes` nodes, persistent or not, keeping PVCs unless scaled down. */
export function elasticsearchSpec(
    namespace: pulumi.Input<string>,
    config: MonitoringConfig["logs"],
): k8s.apiextensions.CustomResourceArgs {
    const dataVolume = "elasticsearch-data";
    return {
        apiVersion: "elasticsearch.k8s.elastic.co/v1",
        kind: "Elasticsearch",
        metadata: { name: "logs", namespace },
        spec: {
            version: config.version,
            auth: { fileRealm: [{ secretName: SHIPPER_SECRET }], roles: [{ secretName: "logs-roles" }] },
            volumeClaimDeletePolicy: "DeleteOnScaledownOnly",
            nodeSets: [
                {
                    name: "default",
                    count: config.nodes,
                    config: { "node.store.allow_mmap": false },
                    // Written as ECK writes it back: ECK updates the Elasticsearch (its annotations) with the
                    // spec its Go types serialize, which adds an empty `metadata`. Any difference makes ECK
                    // the owner of the whole `nodeSets` list, and every later change of ours a field conflict.
                    podTemplate: {
                        metadata: {},
                        spec: {
                            containers: [
                                {
                                    name: "elasticsearch",
                                    resources: {
                                        requests: {
                                            cpu: config.nodes > 1 ? "1" : "250m",
                                            memory: config.nodes > 1 ? "4Gi" : "2Gi",
                                        },
                                        limits: { memory: config.nodes > 1 ? "4Gi" : "2Gi" },
                                    },
                                },
                            ],
                            ...(config.persistent ? {} : { volumes: [{ name: dataVolume, emptyDir: {} }] }),
                        },
                    },
                    ...(config.persistent
                        ? {
                              volumeClaimTemplates: [
                                  {
                                      metadata: { name: dataVolume },
                                      spec: {
                                          accessModes: ["ReadWriteOnce"],
                                          resources: { requests: { storage: config.storageSize } },
                                          ...(config.storageClass !== undefined
                                              ? { storageClassName: config.storageClass }
                                              : {}),
                                      },
                                  },
                              ],
                          }
                        : {}),
                },
            ],
        },
    };
}

/**
 * A Job that sets the log data streams' retention through Elasticsearch's
 * index template API, as Fluent Bit's user. It is named after the retention,
 * so a change runs it again.
 */
export function retentionJob(
    namespace: pulumi.Input<string>,
    retentionDays: number,
    image: string,
): k8s.types.input.batch.v1.Job {
    const template = JSON.stringify({
        index_patterns: ["logs-k8s-*"],
        data_stream: {},
        priority: 500,
        template: { lifecycle: { data_retention: `${retentionDays}d` } },
    });
    return {
        metadata: { name: `logs-retention-${retentionDays}d`, namespace },
        spec: {
            backoffLimit: 20,
            template: {
                spec: {
                    restartPolicy: "OnFailure",
                    securityContext: { runAsNonRoot: true, runAsUser: 100, seccompProfile: { type: "RuntimeDefault" } },
                    containers: [
                        {
                            name: "set-retention",
                            image,
                            args: [
                                "--fail",
                                "--silent",
                                "--show-error",
                                "--cacert",
                                "/es-ca/ca.crt",
                                "--user",
                                "$(ES_USER):$(ES_PASSWORD)",
                                "--request",
                                "PUT",
                                "--header",
                                "Content-Type: application/json",
                                "--data",
                                template,
                                `https://${LOGS_SERVICES.elasticsearch.name}:${LOGS_SERVICES.elasticsearch.port}/_index_template/logs-k8s`,
                            ],
                            env: [
                                {
                                    name: "ES_USER",
                                    valueFrom: { secretKeyRef: { name: SHIPPER_SECRET, key: "username" } },
                                },
                                {
                                    name: "ES_PASSWORD",
                                    valueFrom: { secretKeyRef: { name: SHIPPER_SECRET, key: "password" } },
                                },
                            ],
                            volumeMounts: [{ name: "es-ca", mountPath: "/es-ca", readOnly: true }],
                            securityContext: {
                                allowPrivilegeEscalation: false,
                                readOnlyRootFilesystem: true,
                                capabilities: { drop: ["ALL"] },
                            },
                            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                        },
                    ],
                    volumes: [{ name: "es-ca", secret: { secretName: "logs-es-http-certs-public" } }],
                },
            },
        },
    };
}

function fluentBit(
    parent: pulumi.Resource,
    name: string,
    args: LogsArgs,
    elasticsearchUrl: pulumi.Output<string>,
    dependsOn: pulumi.Resource[],
): k8s.helm.v4.Chart {
    return new k8s.helm.v4.Chart(
        `${name}-fluent-bit`,
        {
            chart: "fluent-bit",
            name: "fluent-bit",
            version: VERSIONS.fluentBit,
            namespace: args.namespace,
            repositoryOpts: { repo: sourcesOf(args).fluentChartRepository },
            values: elasticsearchUrl.apply((url) =>
                fluentBitValues(url, args.config.externalElasticsearch === undefined),
            ),
        },
        { parent, dependsOn },
    );
}

/**
 * Fluent Bit's chart values: tail every container log, add Kubernetes
 * metadata (labels included, so Knative's service and revision labels come
 * along), and write to the log data stream over TLS.
 * @see https://docs.fluentbit.io/manual/pipeline/outputs/elasticsearch
 */
export function fluentBitValues(elasticsearchUrl: string, managed: boolean): Record<string, unknown> {
    const url = new URL(elasticsearchUrl);
    const tls = url.protocol === "https:";
    const output = [
        "[OUTPUT]",
        "    Name es",
        "    Match kube.*",
        `    Host ${url.hostname}`,
        `    Port ${url.port === "" ? (tls ? "443" : "80") : url.port}`,
        "    HTTP_User ${ES_USER}",
        "    HTTP_Passwd ${ES_PASSWORD}",
        `    Index ${LOG_DATA_STREAM}`,
        "    Write_Operation create",
        "    Suppress_Type_Name On",
        "    Replace_Dots On",
        "    Retry_Limit 10",
        `    tls ${tls ? "On" : "Off"}`,
        ...(tls ? ["    tls.verify On", ...(managed ? ["    tls.ca_file /es-ca/ca.crt"] : [])] : []),
    ].join("\n");
    return {
        // The chart ships Fluent Bit without requests or limits.
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
        env: [
            { name: "ES_USER", valueFrom: { secretKeyRef: { name: SHIPPER_SECRET, key: "username" } } },
            { name: "ES_PASSWORD", valueFrom: { secretKeyRef: { name: SHIPPER_SECRET, key: "password" } } },
        ],
        ...(managed
            ? {
                  extraVolumes: [{ name: "es-ca", secret: { secretName: "logs-es-http-certs-public" } }],
                  extraVolumeMounts: [{ name: "es-ca", mountPath: "/es-ca", readOnly: true }],
              }
            : {}),
        config: {
            inputs: [
                "[INPUT]",
                "    Name tail",
                "    Path /var/log/containers/*.log",
                "    multiline.parser docker, cri",
                "    Tag kube.*",
                "    Mem_Buf_Limit 50MB",
                "    Skip_Long_Lines On",
            ].join("\n"),
            filters: [
                "[FILTER]",
                "    Name kubernetes",
                "    Match kube.*",
                "    Merge_Log On",
                "    Keep_Log Off",
                "    Labels On",
                "    Annotations Off",
                "    K8S-Logging.Parser On",
                "    K8S-Logging.Exclude On",
            ].join("\n"),
            outputs: output,
        },
    };
}
