import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    type KnativeSourcesArgs,
    installManifest,
    installCore,
    manifestSourceOf,
    patchConfigMap,
    setConfigMapData,
    webhookMtlsException,
} from "./knative-manifests.ts";
import type { EventingConfig } from "./config/index.ts";
import { type KnativeRelease, knativeManifests } from "./versions.ts";

/** Arguments of {@link KnativeEventing}. */
export interface KnativeEventingArgs extends KnativeSourcesArgs {
    /** The stack's `eventing` section: the broker and its Kafka cluster. @see config/eventing.ts */
    config: EventingConfig;
    /** The Knative release to install (the one Serving installs). @see versions.ts KNATIVE_RELEASES */
    release: KnativeRelease;
    /** Replicas of the Eventing control plane. */
    replicas: number;
    /** App namespaces that get a `default` Broker. */
    brokerNamespaces: string[];
    /** Whether mesh-wide mTLS is STRICT: Eventing's pods then join the mesh to deliver events to apps. */
    strictMtls: boolean;
    /** What must be ready first: the mesh (injection webhook) and the app namespaces. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

const NAMESPACE = "knative-eventing";
const KAFKA_BROKER_CONFIG = "kafka-broker-config";
/** Eventing's control plane above one replica: the controller, and the webhook through the HPA Eventing ships. */
const EVENTING_CONTROL_PLANE = { deployments: ["eventing-controller"], autoscalers: ["eventing-webhook"] };

/** The broker class each broker kind installs. */
export const BROKER_CLASSES = { "in-memory": "MTChannelBasedBroker", kafka: "Kafka" } as const;

/**
 * Knative Eventing from its release manifests: the core (its CRDs, and
 * PingSource for cron triggers), then a broker implementation (the MT channel
 * broker on in-memory channels, or the Kafka broker where a Kafka is
 * configured), and always the Kafka source controller, so that Kafka triggers
 * work in every environment. Each app namespace that wants one gets a
 * `default` Broker, created after the broker's webhook and controller are up.
 *
 * ```ts
 * const eventing = new KnativeEventing("eventing", {
 *     config: platformConfig.eventing,
 *     release: KNATIVE_RELEASES["1.23"],
 *     sources,
 *     replicas: 1,
 *     brokerNamespaces: ["games-web"],
 *     strictMtls: true,
 *     dependsOn: [...istio.ready, ...apps.namespaces.values()],
 * });
 * ```
 * @see https://knative.dev/docs/install/yaml-install/eventing/install-eventing-with-yaml/
 */
export class KnativeEventing extends pulumi.ComponentResource {
    public readonly version: pulumi.Output<string>;
    /** Broker name per app namespace that has one. */
    public readonly brokers: pulumi.Output<Record<string, string>>;
    public readonly brokerClass: pulumi.Output<string>;
    /** The Kafka bootstrap servers, or an empty list without Kafka. */
    public readonly kafkaBootstrapServers: pulumi.Output<string[]>;
    /** The namespaces it installs into (the platform's preview identity reads their Secrets). */
    public readonly namespaces: string[] = [NAMESPACE];
    /** Every object its charts and manifests render, once all of them are registered (the node-pool check waits for it). */
    public readonly rendered: pulumi.Output<unknown[]>;

    constructor(name: string, args: KnativeEventingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:knative:KnativeEventing", name, {}, opts);
        const { config } = args;
        const manifestSource = manifestSourceOf(args);
        const brokerClass = BROKER_CLASSES[config.broker];
        const manifests = knativeManifests(args.release);
        // The controller runs replicated without a budget of its own upstream; the webhook's HPA comes with one.
        const core = installCore(this, name, {
            core: manifests.eventingCore,
            namespace: NAMESPACE,
            manifestSource,
            strictMtls: args.strictMtls,
            dependsOn: args.dependsOn,
            replicas: args.replicas,
            controlPlane: EVENTING_CONTROL_PLANE,
        });
        // The Kafka broker's settings are upstream's ConfigMap, which ships example values: set as it is applied.
        const kafka = config.broker === "kafka" ? config.kafka : undefined;
        const kafkaController = installManifest(
            this,
            `${name}-kafka-controller`,
            manifests.kafkaController,
            manifestSource,
            [core],
            kafka === undefined ? [] : [setConfigMapData(KAFKA_BROKER_CONFIG, kafkaBrokerSettings(kafka))],
        );
        const kafkaSource = installManifest(this, `${name}-kafka-source`, manifests.kafkaSource, manifestSource, [
            kafkaController,
        ]);

        const brokerLayer =
            kafka !== undefined
                ? [
                      installManifest(this, `${name}-kafka-broker`, manifests.kafkaBroker, manifestSource, [
                          kafkaController,
                      ]),
                  ]
                : [
                      installManifest(this, `${name}-in-memory-channel`, manifests.inMemoryChannel, manifestSource, [
                          core,
                      ]),
                      installManifest(this, `${name}-mt-channel-broker`, manifests.mtChannelBroker, manifestSource, [
                          core,
                      ]),
                  ];
        const observability = patchConfigMap(
            this,
            `${name}-config-observability`,
            NAMESPACE,
            "config-observability",
            { "metrics-protocol": "prometheus" },
            [core],
        );
        // The API server calls the webhooks without mesh certificates: their port stays PERMISSIVE, for
        // Eventing's own and for the Kafka webhook (admission and conversion of Kafka sources and brokers).
        const meshExceptions = args.strictMtls
            ? [
                  webhookMtlsException(this, `${name}-webhook-mtls`, NAMESPACE, "eventing-webhook", [core]),
                  webhookMtlsException(this, `${name}-kafka-webhook-mtls`, NAMESPACE, "kafka-webhook-eventing", [
                      kafkaController,
                  ]),
              ]
            : [];

        const brokers = Object.fromEntries(
            args.brokerNamespaces.map((namespace) => {
                new k8s.apiextensions.CustomResource(
                    `${name}-${namespace}-broker`,
                    defaultBroker(namespace, brokerClass),
                    { parent: this, dependsOn: [...brokerLayer, observability, kafkaSource, ...meshExceptions] },
                );
                return [namespace, "default"];
            }),
        );

        this.rendered = pulumi.all([core, kafkaController, kafkaSource, ...brokerLayer].map((file) => file.resources));
        this.version = pulumi.output(args.release.eventing);
        this.brokers = pulumi.output(brokers);
        this.brokerClass = pulumi.output(brokerClass);
        this.kafkaBootstrapServers = pulumi.output(config.kafka?.bootstrapServers ?? []);
        this.registerOutputs({
            version: this.version,
            brokers: this.brokers,
            brokerClass: this.brokerClass,
            kafkaBootstrapServers: this.kafkaBootstrapServers,
        });
    }
}

/** The `default` Broker of a namespace; the Kafka class reads its topic settings from `kafka-broker-config`. */
export function defaultBroker(namespace: string, brokerClass: string): k8s.apiextensions.CustomResourceArgs {
    return {
        apiVersion: "eventing.knative.dev/v1",
        kind: "Broker",
        metadata: { name: "default", namespace, annotations: { "eventing.knative.dev/broker.class": brokerClass } },
        spec:
            brokerClass === BROKER_CLASSES.kafka
                ? { config: { apiVersion: "v1", kind: "ConfigMap", name: KAFKA_BROKER_CONFIG, namespace: NAMESPACE } }
                : {},
    };
}

/**
 * Where Kafka is, and how the topics the Kafka broker creates per broker are laid out.
 * @see https://knative.dev/docs/eventing/brokers/broker-types/kafka-broker/
 */
export function kafkaBrokerSettings(kafka: NonNullable<EventingConfig["kafka"]>): Record<string, string> {
    return {
        "bootstrap.servers": kafka.bootstrapServers.join(","),
        "default.topic.partitions": String(kafka.partitions),
        "default.topic.replication.factor": String(kafka.replicationFactor),
    };
}
