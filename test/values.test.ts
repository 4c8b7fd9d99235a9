import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import {
    editObjects,
    labelNamespace,
    deleteConfigMapsInBackground,
    leaveAggregatedRules,
    webhookPortsOutsideTheMesh,
    leaveWebhookRulesToKnative,
    scaleControlPlane,
    setConfigMapData,
} from "../components/platform/knative-manifests.ts";
import { knativeServingSettings } from "../components/platform/knative-serving.ts";
import { KNATIVE_SCHEMA } from "../components/platform/config/knative.ts";
import { defaultsOf } from "../components/platform/config/schema.ts";
import { deepMerge, rewriteImageRegistry } from "../components/platform/helm-values.ts";
import { KNATIVE_RELEASE_REGISTRY } from "../components/platform/versions.ts";

describe("deepMerge merges Helm values", () => {
    test("objects key by key, lists and scalars replaced", () => {
        expect(
            deepMerge(
                { pilot: { replicaCount: 1, cni: { enabled: true } }, tags: ["a"], x: 1 },
                { pilot: { replicaCount: 3 }, tags: ["b"], y: 2 },
            ),
        ).toEqual({ pilot: { replicaCount: 3, cni: { enabled: true } }, tags: ["b"], x: 1, y: 2 });
    });

    test("a value known only at deployment (an output) replaces, and is never walked key by key", () => {
        const domain = pulumi.output({ suffix: "example.com" });
        const merged = deepMerge({ global: { domain: { suffix: "cluster.local" } } }, { global: { domain } });
        expect(merged).toEqual({ global: { domain } });
        expect(rewriteImageRegistry({ image: domain }, "docker.io", "mirror.example.com").image).toBe(domain);
    });

    test('a "__proto__" key from parsed config stays data', () => {
        const merged = deepMerge({}, JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>);
        expect(Object.keys(merged)).toEqual(["__proto__"]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    });

    test("never changes its arguments, and the override always wins", () => {
        fc.assert(
            fc.property(fc.object(), fc.object(), (base, override) => {
                const before = JSON.stringify([base, override]);
                const merged = deepMerge(base, override);
                expect(JSON.stringify([base, override])).toBe(before);
                for (const [key, value] of Object.entries(override)) {
                    if (typeof value !== "object" || value === null || Array.isArray(value)) {
                        expect(merged[key]).toEqual(value);
                    }
                }
            }),
        );
    });
});

describe("a Knative release manifest, edited for a mirror and the mesh", () => {
    const deployment = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "controller", namespace: "knative-serving" },
        spec: {
            template: {
                spec: {
                    containers: [
                        {
                            name: "controller",
                            image: `${KNATIVE_RELEASE_REGISTRY}/knative.dev/serving/cmd/controller@sha256:${"1".repeat(64)}`,
                            env: [
                                {
                                    name: "QUEUE_SIDECAR_IMAGE",
                                    value: `${KNATIVE_RELEASE_REGISTRY}/knative.dev/serving/cmd/queue@sha256:${"2".repeat(64)}`,
                                },
                            ],
                        },
                    ],
                },
            },
        },
    };

    test("every image under Knative's registry moves to the mirror, digests kept; other strings untouched", () => {
        const rewritten = rewriteImageRegistry(deployment, KNATIVE_RELEASE_REGISTRY, "registry.corp.example/knative/");
        const container = rewritten.spec.template.spec.containers[0]!;
        expect(container.image).toBe(
            `registry.corp.example/knative/knative.dev/serving/cmd/controller@sha256:${"1".repeat(64)}`,
        );
        expect(container.env[0]!.value).toBe(
            `registry.corp.example/knative/knative.dev/serving/cmd/queue@sha256:${"2".repeat(64)}`,
        );
        expect(rewritten.metadata).toEqual(deployment.metadata);
        expect(deployment.spec.template.spec.containers[0]!.image.startsWith(KNATIVE_RELEASE_REGISTRY)).toBe(true);
    });

    test("the knative-serving Namespace joins the mesh; nothing else is labelled", async () => {
        const transform = editObjects([labelNamespace("knative-serving", { "istio-injection": "enabled" })]);
        const namespace = {
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: "knative-serving", labels: { "app.kubernetes.io/name": "knative-serving" } },
        };
        const result = await transform({
            custom: true,
            type: "kubernetes:core/v1:Namespace",
            name: "knative-serving",
            props: namespace,
            opts: {},
        });
        expect(result?.props.metadata.labels).toEqual({
            "app.kubernetes.io/name": "knative-serving",
            "istio-injection": "enabled",
        });
        const other = await transform({
            custom: true,
            type: "kubernetes:apps/v1:Deployment",
            name: "controller",
            props: deployment,
            opts: {},
        });
        expect(other?.props).toEqual(deployment);
    });
});

describe("edits of upstream objects", () => {
    // Shaped as serving-core.yaml ships them: the webhook's HPA allows 1 to 5 pods.
    const webhookHpa = {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "webhook", namespace: "knative-serving" },
        spec: { scaleTargetRef: { kind: "Deployment", name: "webhook" }, minReplicas: 1, maxReplicas: 5 },
    };
    const controller = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "controller", namespace: "knative-serving" },
        spec: { selector: { matchLabels: { app: "controller" } } },
    };
    const scale = (replicas: number) =>
        scaleControlPlane(replicas, { deployments: ["controller"], autoscalers: ["webhook"] });

    test("replicas land on the named Deployments and as the named HPAs' minimum", () => {
        expect(scale(3)(controller).spec).toMatchObject({ replicas: 3 });
        expect(scale(3)(webhookHpa).spec).toMatchObject({ minReplicas: 3, maxReplicas: 5 });
    });

    test("an HPA's maximum rises with a minimum above it (the API server refuses min > max)", () => {
        expect(scale(7)(webhookHpa).spec).toMatchObject({ minReplicas: 7, maxReplicas: 7 });
    });

    test("other objects pass unchanged", () => {
        const activator = { ...controller, metadata: { ...controller.metadata, name: "activator" } };
        expect(scale(3)(activator)).toEqual(activator);
    });

    test("a ConfigMap's data is replaced; other ConfigMaps are left alone", () => {
        const upstream = {
            kind: "ConfigMap",
            metadata: { name: "kafka-broker-config", namespace: "knative-eventing" },
            data: { "bootstrap.servers": "my-cluster-kafka-bootstrap.kafka:9092" },
        };
        const edit = setConfigMapData("kafka-broker-config", { "bootstrap.servers": "kafka-0:9092" });
        expect(edit(upstream).data).toEqual({ "bootstrap.servers": "kafka-0:9092" });
        const other = { ...upstream, metadata: { name: "config-kafka-features" } };
        expect(edit(other)).toEqual(other);
    });
});

describe("Knative's ConfigMaps", () => {
    test("are deleted in the background, so no update by the garbage collector meets Knative's config webhook", () => {
        const configMap = {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "config-autoscaler", annotations: { "knative.dev/example-checksum": "47c2487f" } },
        };
        expect(deleteConfigMapsInBackground(configMap).metadata?.annotations).toEqual({
            "knative.dev/example-checksum": "47c2487f",
            "pulumi.com/deletionPropagationPolicy": "background",
        });
        const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "controller" } };
        expect(deleteConfigMapsInBackground(deployment)).toBe(deployment);
    });
});

describe("Knative's webhooks", () => {
    // As serving-core.yaml 1.23 ships the webhook's Deployment (trimmed to what the edit reads).
    const webhook = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "webhook" },
        spec: {
            template: {
                metadata: { labels: { app: "webhook" } },
                spec: {
                    containers: [
                        {
                            name: "webhook",
                            ports: [
                                { name: "metrics", containerPort: 9090 },
                                { name: "https-webhook", containerPort: 8443 },
                            ],
                        },
                    ],
                },
            },
        },
    };

    test("serve the API server outside the sidecar, which would refuse it without mesh certificates", () => {
        const edited = webhookPortsOutsideTheMesh(webhook) as typeof webhook & {
            spec: { template: { metadata: { annotations: Record<string, string> } } };
        };
        expect(edited.spec.template.metadata).toEqual({
            labels: { app: "webhook" },
            annotations: { "traffic.sidecar.istio.io/excludeInboundPorts": "8443" },
        });
        expect(edited.spec.template.spec).toBe(webhook.spec.template.spec);
    });

    test("other workloads keep every port in the mesh", () => {
        const controller = {
            ...webhook,
            metadata: { name: "controller" },
            spec: {
                template: { spec: { containers: [{ name: "c", ports: [{ name: "metrics", containerPort: 9090 }] }] } },
            },
        };
        expect(webhookPortsOutsideTheMesh(controller)).toBe(controller);
        const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "config-network" } };
        expect(webhookPortsOutsideTheMesh(configMap)).toBe(configMap);
    });
});

describe("aggregated ClusterRoles", () => {
    // As serving-core.yaml ships knative-serving-admin: its rules come from the roles it aggregates.
    const aggregated = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "knative-serving-admin" },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "serving.knative.dev/controller": "true" } }] },
        rules: [],
    };

    test("leave their rules to the cluster's aggregation controller", () => {
        expect(leaveAggregatedRules(aggregated)).toEqual({
            apiVersion: aggregated.apiVersion,
            kind: "ClusterRole",
            metadata: aggregated.metadata,
            aggregationRule: aggregated.aggregationRule,
        });
    });

    test("other ClusterRoles keep theirs", () => {
        const plain = { ...aggregated, aggregationRule: undefined, rules: [{ verbs: ["get"] }] };
        expect(leaveAggregatedRules(plain)).toBe(plain);
    });
});

describe("Knative Serving's webhook configurations", () => {
    // As serving-core.yaml 1.23 ships webhook.serving.knative.dev: its rules filled in.
    const shipped = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: "webhook.serving.knative.dev" },
        webhooks: [
            {
                name: "webhook.serving.knative.dev",
                clientConfig: { service: { name: "webhook", namespace: "knative-serving" } },
                failurePolicy: "Fail",
                rules: [{ apiGroups: ["serving.knative.dev"], operations: ["CREATE"], resources: ["services"] }],
            },
        ],
    };
    const edit = leaveWebhookRulesToKnative(["webhook.serving.knative.dev"]);

    test("leave their rules to Knative's webhook, keeping everything else as shipped", () => {
        expect(edit(shipped)).toEqual({
            ...shipped,
            webhooks: [
                {
                    name: "webhook.serving.knative.dev",
                    clientConfig: shipped.webhooks[0]!.clientConfig,
                    failurePolicy: "Fail",
                },
            ],
        });
    });

    test("other webhook configurations keep theirs", () => {
        const other = { ...shipped, metadata: { name: "pods.defaulting.webhook.kafka.eventing.knative.dev" } };
        expect(edit(other)).toBe(other);
    });
});

describe("knativeServingSettings", () => {
    test("writes each setting under Knative's own key", () => {
        const settings = knativeServingSettings("games.example.com", {
            ...defaultsOf(KNATIVE_SCHEMA),
            maxScaleLimit: 50,
            allowZeroInitialScale: true,
        });
        expect(Object.keys(settings).sort()).toEqual([
            "config-autoscaler",
            "config-defaults",
            "config-deployment",
            "config-domain",
            "config-features",
            "config-observability",
        ]);
        expect(settings["config-autoscaler"]).toEqual({
            "enable-scale-to-zero": "true",
            "scale-to-zero-grace-period": "30s",
            "stable-window": "60s",
            "container-concurrency-target-default": "100",
            "max-scale-limit": "50",
            "max-scale": "50",
            "allow-zero-initial-scale": "true",
        });
        expect(settings["config-defaults"]).toEqual({ "container-concurrency-max-limit": "1000" });
    });
});
