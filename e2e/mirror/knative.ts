/**
 * Stand-ins for Knative's release manifests, at the paths `manifestUrl` reads (the layout of
 * GitHub releases). Each carries the upstream facts the platform's code depends on: the objects'
 * kinds, names and namespaces, the ConfigMaps it patches or transforms (`kafka-broker-config`
 * ships in eventing-kafka-controller.yaml with bootstrap servers of its own), the HPAs and
 * PodDisruptionBudgets the HA settings meet (`webhook` ships `minReplicas: 1, maxReplicas: 5`),
 * the webhook configurations (shipped without rules: Knative's webhook fills them in when it
 * starts) and their Services, and the security contexts the policy pack reads (the Kafka webhook
 * ships `runAsNonRoot: false`). Sources: the knative/serving `config/core`, `config/hpa-autoscaling`,
 * knative/eventing `config/`, net-istio `config/` and eventing-kafka-broker
 * `control-plane/config/eventing-kafka-broker` directories at the pinned releases.
 */
import {
    KNATIVE_RELEASES,
    KNATIVE_RELEASE_REGISTRY,
    type KnativeManifest,
    knativeManifests,
} from "../../components/platform/versions.ts";
import { type Obj, configMap, crd, digestImage, hpa, pdb, service, workload } from "./objects.ts";

const SERVING = "knative-serving";
const EVENTING = "knative-eventing";

const image = (repo: string, cmd: string) => digestImage(`${KNATIVE_RELEASE_REGISTRY}/knative.dev/${repo}/cmd/${cmd}`);

/** Knative's own ConfigMaps carry only an `_example` key, and the label its config webhook selects on. */
function knativeConfig(name: string, namespace: string, partOf: string, data: Record<string, string> = {}): Obj {
    return configMap(
        name,
        namespace,
        { _example: "# see the release's documentation\n", ...data },
        {
            "app.kubernetes.io/part-of": partOf,
        },
    );
}

/** A webhook configuration as Knative ships it: no rules, no CA (its webhook fills both in when it starts). */
function knativeWebhook(
    kind: "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration",
    name: string,
    serviceName: string,
    namespace: string,
    extra: Obj = {},
): Obj {
    return {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind,
        metadata: { name },
        webhooks: [
            {
                name,
                admissionReviewVersions: ["v1", "v1beta1"],
                clientConfig: { service: { name: serviceName, namespace } },
                failurePolicy: "Fail",
                sideEffects: "None",
                timeoutSeconds: 10,
                ...extra,
            },
        ],
    };
}

function namespace(name: string): Obj {
    return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "app.kubernetes.io/name": name } } };
}

/** A control-plane Deployment with the Service of its port. */
function component(name: string, ns: string, img: string, port: number, serviceName = name): Obj[] {
    return [
        workload(name, ns, { image: img, ports: [{ name: "http", containerPort: port }] }),
        service(serviceName, ns, name, [{ name: "http", port, targetPort: port }]),
    ];
}

/** A webhook Deployment listening on 8443, behind a Service on 443. */
function webhookComponent(name: string, ns: string, img: string, overrides: Obj = {}): Obj[] {
    return [
        workload(name, ns, { image: img, ports: [{ name: "https-webhook", containerPort: 8443 }], ...overrides }),
        service(name, ns, name, [{ name: "https-webhook", port: 443, targetPort: 8443 }]),
    ];
}

const SERVING_CONFIGS = [
    "config-autoscaler",
    "config-defaults",
    "config-domain",
    "config-features",
    "config-gc",
    "config-leader-election",
    "config-logging",
    "config-network",
    "config-observability",
    "config-tracing",
];

const STAND_INS: Record<string, () => Obj[]> = {
    "serving-crds.yaml": () => [
        crd("serving.knative.dev", "Service", "services", ["v1"]),
        crd("serving.knative.dev", "Configuration", "configurations", ["v1"]),
        crd("serving.knative.dev", "Revision", "revisions", ["v1"]),
        crd("serving.knative.dev", "Route", "routes", ["v1"]),
        crd("serving.knative.dev", "DomainMapping", "domainmappings", ["v1beta1"]),
        crd("autoscaling.internal.knative.dev", "PodAutoscaler", "podautoscalers", ["v1alpha1"]),
    ],
    "serving-core.yaml": () => [
        namespace(SERVING),
        ...SERVING_CONFIGS.map((name) => knativeConfig(name, SERVING, "knative-serving")),
        // The queue-proxy image reaches revisions through this ConfigMap (a mirror rewrites it too).
        knativeConfig("config-deployment", SERVING, "knative-serving", {
            "queue-sidecar-image": image("serving", "queue"),
        }),
        ...component("activator", SERVING, image("serving", "activator"), 8012, "activator-service"),
        ...component("autoscaler", SERVING, image("serving", "autoscaler"), 8080),
        ...component("controller", SERVING, image("serving", "controller"), 9090),
        ...webhookComponent("webhook", SERVING, image("serving", "webhook")),
        hpa("activator", SERVING, "activator", 1, 20),
        hpa("webhook", SERVING, "webhook", 1, 5),
        pdb("activator-pdb", SERVING, "activator", "80%"),
        pdb("webhook-pdb", SERVING, "webhook", "80%"),
        knativeWebhook("ValidatingWebhookConfiguration", "config.webhook.serving.knative.dev", "webhook", SERVING, {
            objectSelector: {
                matchExpressions: [{ key: "app.kubernetes.io/part-of", operator: "In", values: ["knative-serving"] }],
            },
        }),
        knativeWebhook("ValidatingWebhookConfiguration", "validation.webhook.serving.knative.dev", "webhook", SERVING),
        knativeWebhook("MutatingWebhookConfiguration", "webhook.serving.knative.dev", "webhook", SERVING),
    ],
    "serving-hpa.yaml": () => [workload("autoscaler-hpa", SERVING, { image: image("serving", "autoscaler-hpa") })],
    "net-istio.yaml": () => [
        knativeConfig("config-istio", SERVING, "knative-serving"),
        workload("net-istio-controller", SERVING, {
            image: digestImage(`${KNATIVE_RELEASE_REGISTRY}/knative.dev/net-istio/cmd/controller`),
        }),
        ...webhookComponent(
            "net-istio-webhook",
            SERVING,
            digestImage(`${KNATIVE_RELEASE_REGISTRY}/knative.dev/net-istio/cmd/webhook`),
        ),
        {
            apiVersion: "networking.istio.io/v1beta1",
            kind: "Gateway",
            metadata: { name: "knative-ingress-gateway", namespace: SERVING },
            spec: {
                selector: { istio: "ingressgateway" },
                servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
            },
        },
        // net-istio's cluster-local gateway Service lives in Istio's namespace.
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "knative-local-gateway", namespace: "istio-system" },
            spec: { selector: { istio: "ingressgateway" }, ports: [{ name: "http2", port: 80, targetPort: 8081 }] },
        },
        knativeWebhook(
            "ValidatingWebhookConfiguration",
            "config.webhook.istio.networking.internal.knative.dev",
            "net-istio-webhook",
            SERVING,
        ),
    ],
    "eventing-crds.yaml": () => [
        crd("eventing.knative.dev", "Broker", "brokers", ["v1"]),
        crd("eventing.knative.dev", "Trigger", "triggers", ["v1"]),
        crd("sources.knative.dev", "PingSource", "pingsources", ["v1"]),
        crd("messaging.knative.dev", "Channel", "channels", ["v1"]),
        crd("messaging.knative.dev", "Subscription", "subscriptions", ["v1"]),
    ],
    "eventing-core.yaml": () => [
        namespace(EVENTING),
        ...["config-br-defaults", "config-features", "config-logging", "config-observability", "config-tracing"].map(
            (name) => knativeConfig(name, EVENTING, "knative-eventing"),
        ),
        workload("eventing-controller", EVENTING, { image: image("eventing", "controller") }),
        ...webhookComponent("eventing-webhook", EVENTING, image("eventing", "webhook")),
        // PingSource's adapter is scaled up by the controller when the first PingSource appears.
        workload("pingsource-mt-adapter", EVENTING, { image: image("eventing", "mtping"), replicas: 0 }),
        hpa("eventing-webhook", EVENTING, "eventing-webhook", 1, 5),
        pdb("eventing-webhook", EVENTING, "eventing-webhook", "80%"),
        knativeWebhook(
            "ValidatingWebhookConfiguration",
            "config.webhook.eventing.knative.dev",
            "eventing-webhook",
            EVENTING,
        ),
        knativeWebhook(
            "ValidatingWebhookConfiguration",
            "validation.webhook.eventing.knative.dev",
            "eventing-webhook",
            EVENTING,
        ),
    ],
    "in-memory-channel.yaml": () => [
        crd("messaging.knative.dev", "InMemoryChannel", "inmemorychannels", ["v1"]),
        workload("imc-controller", EVENTING, { image: image("eventing", "in_memory/channel_controller") }),
        ...component("imc-dispatcher", EVENTING, image("eventing", "in_memory/channel_dispatcher"), 8080),
    ],
    "mt-channel-broker.yaml": () => [
        workload("mt-broker-controller", EVENTING, { image: image("eventing", "mtchannel_broker") }),
        ...component("mt-broker-filter", EVENTING, image("eventing", "broker/filter"), 8080, "broker-filter"),
        ...component("mt-broker-ingress", EVENTING, image("eventing", "broker/ingress"), 8080, "broker-ingress"),
        hpa("broker-ingress-hpa", EVENTING, "mt-broker-ingress", 1, 10),
        hpa("broker-filter-hpa", EVENTING, "mt-broker-filter", 1, 10),
    ],
    "eventing-kafka-controller.yaml": () => [
        crd("sources.knative.dev", "KafkaSource", "kafkasources", ["v1"]),
        crd("eventing.knative.dev", "KafkaSink", "kafkasinks", ["v1alpha1"]),
        // Upstream's own example values: a platform that keeps them talks to no Kafka it knows.
        configMap("kafka-broker-config", EVENTING, {
            "default.topic.partitions": "10",
            "default.topic.replication.factor": "3",
            "bootstrap.servers": "my-cluster-kafka-bootstrap.kafka:9092",
        }),
        workload("kafka-controller", EVENTING, {
            image: digestImage(
                `${KNATIVE_RELEASE_REGISTRY}/knative.dev/eventing-kafka-broker/control-plane/cmd/kafka-controller`,
            ),
        }),
        // Upstream ships the Kafka webhook with this pod and container security context, and no more.
        ...webhookComponent(
            "kafka-webhook-eventing",
            EVENTING,
            digestImage(
                `${KNATIVE_RELEASE_REGISTRY}/knative.dev/eventing-kafka-broker/control-plane/cmd/webhook-kafka`,
            ),
            {
                podSecurityContext: { runAsNonRoot: false },
                securityContext: { allowPrivilegeEscalation: false },
                resources: { requests: { cpu: "20m", memory: "20Mi" }, limits: { cpu: "200m", memory: "200Mi" } },
            },
        ),
        knativeWebhook(
            "MutatingWebhookConfiguration",
            "pods.defaulting.webhook.kafka.eventing.knative.dev",
            "kafka-webhook-eventing",
            EVENTING,
            {
                timeoutSeconds: 2,
                namespaceSelector: { matchLabels: { "app.kubernetes.io/name": "knative-eventing" } },
                objectSelector: { matchLabels: { "app.kubernetes.io/component": "kafka-dispatcher" } },
            },
        ),
    ],
    "eventing-kafka-broker.yaml": () => [
        ...component(
            "kafka-broker-receiver",
            EVENTING,
            digestImage(`${KNATIVE_RELEASE_REGISTRY}/knative.dev/eventing-kafka-broker/data-plane/receiver`),
            8080,
            "kafka-broker-ingress",
        ),
        // Dispatchers are scheduled by the controller: the StatefulSet ships without replicas.
        workload("kafka-broker-dispatcher", EVENTING, {
            kind: "StatefulSet",
            replicas: 0,
            labels: { "app.kubernetes.io/component": "kafka-dispatcher" },
            image: digestImage(`${KNATIVE_RELEASE_REGISTRY}/knative.dev/eventing-kafka-broker/data-plane/dispatcher`),
        }),
    ],
    "eventing-kafka-source.yaml": () => [
        workload("kafka-source-dispatcher", EVENTING, {
            kind: "StatefulSet",
            replicas: 0,
            labels: { "app.kubernetes.io/component": "kafka-dispatcher" },
            image: digestImage(`${KNATIVE_RELEASE_REGISTRY}/knative.dev/eventing-kafka-broker/data-plane/dispatcher`),
        }),
    ],
};

/**
 * The stand-in objects of one release manifest. Knative labels every object of a release with
 * its version (`app.kubernetes.io/version`); the platform reads the installed release from the
 * knative-serving Namespace's.
 */
export function knativeStandIn(manifest: KnativeManifest): Obj[] {
    const objects = STAND_INS[manifest.file];
    if (objects === undefined) throw new Error(`the mirror fixture has no stand-in for ${manifest.file}`);
    return objects().map((object) => {
        const metadata = object.metadata as { labels?: Record<string, string> };
        const labelled = {
            ...object,
            metadata: { ...metadata, labels: { ...metadata.labels, "app.kubernetes.io/version": manifest.version } },
        };
        // Each release's images have digests of their own.
        return JSON.parse(
            JSON.stringify(labelled).replace(/@sha256:([0-9a-f]{64})/g, (_, digest: string) =>
                digestImage(`${digest}@${manifest.version}`).slice(-"@sha256:".length - 64),
            ),
        ) as Obj;
    });
}

/** Every manifest the platform installs, for every Knative release it can install. */
export const KNATIVE_MANIFESTS: KnativeManifest[] = Object.values(KNATIVE_RELEASES).flatMap((release) =>
    Object.values(knativeManifests(release)),
);
