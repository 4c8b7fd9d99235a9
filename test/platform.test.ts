import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { FIELD_MANAGER_ANNOTATION } from "../components/shared/field-manager.ts";
import {
    DEFAULT_KNATIVE,
    KNATIVE_RELEASES,
    KNATIVE_RELEASE_REGISTRY,
    VERSIONS,
    stackVersionsOf,
} from "../components/platform/versions.ts";
import { goWithTheirNamespace } from "../components/platform/knative-manifests.ts";
import { AGGREGATED_ROLES_POLICY, AGGREGATION_CONTROLLER } from "../components/platform/aggregated-roles.ts";
import {
    PLATFORM_API_GROUPS,
    PREVIEWS_POLICY,
    PREVIEW_ACCOUNT,
    groupOfType,
} from "../components/platform/preview-identity.ts";
import { APP_TEAM_ROLE } from "../components/platform/cluster.ts";
import { PREVIEWS_NAMESPACE } from "../components/shared/system-namespaces.ts";
import { type Registered, dependsOnNames, find, ofType, valueOf } from "./harness.ts";
import { PLATFORM_OUTPUTS } from "../index.ts";
import { DEPLOY_TIME_CONFIG, STACKS, deployPlatform, stackConfig } from "./stacks.ts";

const KNATIVE = KNATIVE_RELEASES[DEFAULT_KNATIVE];

const CHART = "kubernetes:helm.sh/v4:Chart";
const CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile";
const CM_PATCH = "kubernetes:core/v1:ConfigMapPatch";
const PEER_AUTH = "kubernetes:security.istio.io/v1:PeerAuthentication";
const BROKER = "kubernetes:eventing.knative.dev/v1:Broker";
const CRD_SET = "pulumi-nodejs:dynamic/crds:CrdSet";
/** The Kubernetes package's components, whose children are the objects. */
const COMPONENT_TYPES = [CHART, CONFIG_FILE, "kubernetes:yaml/v2:ConfigGroup"];
const ADMISSION_GROUP = "admissionregistration.k8s.io";
const ADMISSION = `kubernetes:${ADMISSION_GROUP}/v1:`;
const RBAC = "kubernetes:rbac.authorization.k8s.io/v1:";
interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
}
/** The type of the custom resource each test manifest that ships a CRD holds (test/stacks.ts). */
const THING = (stem: string) => `kubernetes:${stem}.example/v1:Thing`;

const deploy = deployPlatform;

/** Where each ConfigFile's manifest was read from: the copy it installs keeps the test manifest's comment naming it. */
const manifestFiles = (resources: Registered[]) =>
    Object.fromEntries(
        ofType(resources, CONFIG_FILE).map((r) => [
            r.name,
            /^# read from (\S+)/.exec(readFileSync(r.inputs.file as string, "utf8"))?.[1],
        ]),
    );

describe.each(STACKS)("the %s platform", async (env) => {
    const { resources, outputs } = await deploy(env);
    const prod = env === "prod";

    test("installs Istio's charts at the pinned version from the chart repository", () => {
        const charts = ofType(resources, CHART)
            .filter((r) => r.name.startsWith("istio-"))
            .map((r) => [r.name, r.inputs.chart, r.inputs.version, r.inputs.repositoryOpts.repo])
            .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
        const repo = "https://istio-release.storage.googleapis.com/charts";
        expect(charts).toEqual([
            ["istio-base", "base", VERSIONS.istio, repo],
            ["istio-cni", "cni", VERSIONS.istio, repo],
            ["istio-gateway", "gateway", VERSIONS.istio, repo],
            ["istio-istiod", "istiod", VERSIONS.istio, repo],
        ]);
        expect(find(resources, CHART, "istio-gateway").inputs.name).toBe("istio-ingressgateway");
    });

    test("installs Knative's release manifests at the pinned versions", () => {
        const gh = "https://github.com";
        const files = manifestFiles(resources);
        // The core manifests carry their CRDs (the CRD manifests repeat them): one owner each.
        expect(files["knative-serving-crds"]).toBeUndefined();
        expect(files["knative-eventing-crds"]).toBeUndefined();
        expect(files["knative-serving-core"]).toBe(
            `${gh}/knative/serving/releases/download/knative-v${KNATIVE.serving}/serving-core.yaml`,
        );
        // The cpu and memory metrics need Knative's HPA class.
        expect(files["knative-serving-hpa"]).toBe(
            `${gh}/knative/serving/releases/download/knative-v${KNATIVE.serving}/serving-hpa.yaml`,
        );
        expect(dependsOnNames(find(resources, CONFIG_FILE, "knative-serving-hpa"))).toEqual(["knative-serving-core"]);
        expect(files["knative-serving-net-istio"]).toBe(
            `${gh}/knative-extensions/net-istio/releases/download/knative-v${KNATIVE.netIstio}/net-istio.yaml`,
        );
        expect(files["knative-eventing-core"]).toBe(
            `${gh}/knative/eventing/releases/download/knative-v${KNATIVE.eventing}/eventing-core.yaml`,
        );
        expect(files["knative-eventing-kafka-source"]).toBe(
            `${gh}/knative-extensions/eventing-kafka-broker/releases/download/knative-v${KNATIVE.eventingKafka}/eventing-kafka-source.yaml`,
        );
        const broker =
            env === "dev"
                ? ["knative-eventing-in-memory-channel", "knative-eventing-mt-channel-broker"]
                : ["knative-eventing-kafka-broker"];
        for (const name of broker) expect(files[name]).toBeDefined();
    });

    /** Runs one transform as the engine does for a ConfigFile's child of `type` and `name`. */
    const runTransform = (transform: pulumi.ResourceTransform | undefined, type: string, name = "x") =>
        transform?.({ type, name, custom: true, props: {}, opts: {} }) as { opts: pulumi.ResourceOptions } | undefined;
    const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";

    test("a manifest's CRDs are applied and recorded by a CrdSet before its ConfigFile, which installs the rest", () => {
        const sets = ofType(resources, CRD_SET).filter((set) => set.name.startsWith("knative-"));
        const expected = [
            ["knative-serving-core-crds", `knative/serving ${KNATIVE.serving} serving-core.yaml`],
            ["knative-eventing-core-crds", `knative/eventing ${KNATIVE.eventing} eventing-core.yaml`],
            [
                "knative-eventing-kafka-controller-crds",
                `knative-extensions/eventing-kafka-broker ${KNATIVE.eventingKafka} eventing-kafka-controller.yaml`,
            ],
            ...(env === "dev"
                ? [
                      [
                          "knative-eventing-in-memory-channel-crds",
                          `knative/eventing ${KNATIVE.eventing} in-memory-channel.yaml`,
                      ],
                  ]
                : []),
        ];
        expect(sets.map((set) => [set.name, set.inputs.artefact]).sort()).toEqual(expected.sort());
        for (const set of sets) {
            const configFile = set.name.replace(/-crds$/, "");
            const stem = /\S+\.yaml$/.exec(set.inputs.artefact as string)?.[0].replace(/\.yaml$/, "");
            expect(Object.keys(set.inputs.crds as object)).toEqual([`${stem}s.${stem}.example`]);
            expect(dependsOnNames(find(resources, CONFIG_FILE, configFile))).toContain(set.name);
            const copy = readFileSync(find(resources, CONFIG_FILE, configFile).inputs.file as string, "utf8");
            expect(copy, configFile).not.toContain("CustomResourceDefinition");
            expect(copy, configFile).toContain("kind: ConfigMap");
        }
    });

    test("a manifest's own custom resources are objects of their own after its ConfigFile, where they were before", async () => {
        for (const set of ofType(resources, CRD_SET).filter((r) => r.name.startsWith("knative-"))) {
            const configFile = set.name.replace(/-crds$/, "");
            const stem = /\S+\.yaml$/.exec(set.inputs.artefact as string)?.[0].replace(/\.yaml$/, "") ?? "";
            const own = find(resources, THING(stem), `${configFile}:knative-test/a-${stem}`);
            expect(own.inputs).toEqual({
                apiVersion: `${stem}.example/v1`,
                kind: "Thing",
                metadata: {
                    name: `a-${stem}`,
                    namespace: "knative-test",
                    annotations: { [FIELD_MANAGER_ANNOTATION]: `serverless-platform/${env}` },
                },
                spec: { image: `${KNATIVE_RELEASE_REGISTRY}/thing` },
            });
            expect(dependsOnNames(own)).toEqual([configFile]);
            expect(own.options.transforms).toEqual(
                find(resources, CONFIG_FILE, configFile).options.transforms?.slice(1),
            );
            const [alias, ...more] = own.options.aliases ?? [];
            expect(more).toEqual([]);
            expect(await valueOf(pulumi.output((alias as pulumi.Alias).parent as pulumi.Resource).urn)).toMatch(
                new RegExp(`\\$kubernetes:yaml/v2:ConfigFile::${configFile}$`),
            );
            const copy = readFileSync(find(resources, CONFIG_FILE, configFile).inputs.file as string, "utf8");
            expect(copy, configFile).not.toContain("kind: Thing");
        }
    });

    test("the cores' own custom resources go with their namespace on destroy, never past Knative's webhook", () => {
        expect(find(resources, CONFIG_FILE, "knative-serving-core").options.transforms).toContain(goWithTheirNamespace);
        const transform = (type: string) => runTransform(goWithTheirNamespace, type);
        expect(transform("kubernetes:networking.internal.knative.dev/v1alpha1:Certificate")?.opts.retainOnDelete).toBe(
            true,
        );
        expect(transform("kubernetes:caching.internal.knative.dev/v1alpha1:Image")?.opts.retainOnDelete).toBe(true);
        expect(transform(CRD)).toBeUndefined();
        expect(transform("kubernetes:apps/v1:Deployment")).toBeUndefined();
    });

    test("orders the layers: the mesh before net-istio and Knative's pods, webhooks before custom resources", () => {
        const edges = (name: string, type = CONFIG_FILE) => dependsOnNames(find(resources, type, name));
        expect(edges("istio-istiod", CHART)).toEqual(["istio-base"]);
        expect(edges("istio-gateway", CHART)).toEqual(["istio-istiod", "istio-cni"]);
        expect(dependsOnNames(find(resources, PEER_AUTH, "istio-mesh-mtls"))).toEqual(["istio-istiod"]);
        expect(edges("knative-serving-core")).toEqual([
            "istio-base",
            "istio-istiod",
            "istio-cni",
            "istio-gateway",
            "istio-mesh-mtls",
            "knative-serving-core-crds",
        ]);
        expect(edges("knative-serving-net-istio")).toContain("knative-serving-core");
        expect(edges("knative-serving-net-istio")).toContain("istio-gateway");
        for (const patch of ofType(resources, CM_PATCH).filter((r) => r.name.startsWith("knative-serving-"))) {
            expect(dependsOnNames(patch), patch.name).toEqual(["knative-serving-core"]);
        }
        // A hand edit of a setting is taken back by the next `up`, not a field conflict that fails it.
        for (const patch of ofType(resources, CM_PATCH)) {
            expect(patch.inputs.metadata.annotations, patch.name).toEqual({ "pulumi.com/patchForce": "true" });
        }
        const broker = find(resources, BROKER, "knative-eventing-games-web-broker");
        expect(dependsOnNames(broker)).toEqual(
            expect.arrayContaining([
                env === "dev" ? "knative-eventing-mt-channel-broker" : "knative-eventing-kafka-broker",
                "knative-eventing-kafka-source",
            ]),
        );
    });

    test("a deleted aggregated ClusterRole stays deleted, and Knative's roles are deleted before that guard", () => {
        const policy = find(
            resources,
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
            "aggregated-roles-policy",
        );
        expect(policy.inputs.spec.matchConstraints.resourceRules).toEqual([
            {
                apiGroups: ["rbac.authorization.k8s.io"],
                apiVersions: ["v1"],
                operations: ["CREATE"],
                resources: ["clusterroles"],
            },
        ]);
        expect(policy.inputs.spec.validations[0].expression).toContain(`f.manager == '${AGGREGATION_CONTROLLER}'`);
        const binding = find(
            resources,
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
            "aggregated-roles-binding",
        );
        expect(binding.inputs.spec).toEqual({ policyName: AGGREGATED_ROLES_POLICY, validationActions: ["Deny"] });
        // A component's dependencies outlive its children: the guard is deleted after every Knative role.
        for (const [type, name] of [
            ["serverless-platform:knative:KnativeServing", "knative-serving"],
            ["serverless-platform:knative:KnativeEventing", "knative-eventing"],
        ] as const) {
            expect(dependsOnNames(find(resources, type, name)), name).toContain("aggregated-roles");
        }
    });

    test("pull requests' previews run as identities whose every write but a dry run the API server refuses, reading no Secret outside their stack's namespaces", () => {
        const policy = find(resources, `${ADMISSION}ValidatingAdmissionPolicy`, "previews-policy").inputs.spec;
        const identities = [
            "platform-previews:pulumi-preview",
            "games-web:pulumi-preview",
            "games-batch:pulumi-preview",
        ].map((account) => `'system:serviceaccount:${account}'`);
        expect(policy.matchConditions).toEqual([
            { name: "preview-identity", expression: `request.userInfo.username in [${identities.join(", ")}]` },
        ]);
        expect(policy.matchConstraints.resourceRules).toEqual([
            { apiGroups: ["*"], apiVersions: ["*"], operations: ["*"], resources: ["*/*"] },
        ]);
        expect(policy.validations[0].expression).toBe("request.dryRun");
        expect(find(resources, `${ADMISSION}ValidatingAdmissionPolicyBinding`, "previews-binding").inputs.spec).toEqual(
            { policyName: PREVIEWS_POLICY, validationActions: ["Deny"] },
        );
        // No identity exists, even for a moment, before the policy binding that keeps it to dry runs.
        const accounts = ofType(resources, "kubernetes:core/v1:ServiceAccount").filter((r) =>
            r.name.startsWith("previews-"),
        );
        expect(accounts.map((r) => `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`).sort()).toEqual(
            ["games-batch", "games-web", PREVIEWS_NAMESPACE].map((ns) => `${ns}/${PREVIEW_ACCOUNT}`),
        );
        for (const account of accounts) expect(dependsOnNames(account), account.name).toContain("previews-binding");

        // Cluster-wide: every API group the stack applies objects of, the core API but Secrets, no admission policy.
        const rules = find(resources, `${RBAC}ClusterRole`, "previews-platform").inputs.rules as PolicyRule[];
        const applied = resources
            .filter((r) => r.type.startsWith("kubernetes:") && !COMPONENT_TYPES.includes(r.type))
            .flatMap((r) => groupOfType(r.type) ?? [])
            // The test manifests' own kinds (THING) aside.
            .filter((group) => !group.endsWith(".example"));
        const whole = rules.find((rule) => rule.resources.includes("*") && !rule.apiGroups.includes(ADMISSION_GROUP));
        expect(whole?.apiGroups).toEqual(PLATFORM_API_GROUPS);
        expect(
            [...new Set(applied)].filter((group) => !["", ADMISSION_GROUP, ...PLATFORM_API_GROUPS].includes(group)),
        ).toEqual([]);
        for (const rule of rules) {
            expect(rule.apiGroups).not.toContain("*");
            expect(rule.verbs.filter((verb) => ["*", "impersonate", "approve", "sign"].includes(verb))).toEqual([]);
            if (rule.apiGroups.includes("")) {
                expect(rule.resources.filter((r) => r === "*" || r === "secrets" || r.includes("/"))).toEqual([]);
            }
            if (rule.apiGroups.includes(ADMISSION_GROUP) && rule.verbs.includes("create")) {
                expect(rule.resources).toEqual(["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]);
            }
        }
        // Secrets: in the namespaces the platform installs into, through one role bound there.
        const secretBindings = ofType(resources, `${RBAC}RoleBinding`).filter(
            (r) => r.inputs.roleRef.name === "platform-preview-secrets",
        );
        expect(secretBindings.map((r) => r.inputs.metadata.namespace).sort()).toEqual([
            "elastic-system",
            "istio-system",
            "knative-eventing",
            "knative-serving",
            "monitoring",
        ]);
        expect(find(resources, `${RBAC}ClusterRole`, "previews-platform-secrets").inputs.rules).toEqual([
            {
                apiGroups: [""],
                resources: ["secrets"],
                verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
            },
        ]);
        // An app namespace's identity has its app team's role there, and nothing else.
        const appBinding = find(resources, `${RBAC}RoleBinding`, "previews-games-web").inputs;
        expect(appBinding).toMatchObject({
            metadata: { namespace: "games-web" },
            roleRef: { kind: "Role", name: APP_TEAM_ROLE },
            subjects: [{ kind: "ServiceAccount", namespace: "games-web", name: PREVIEW_ACCOUNT }],
        });
    });

    test("platform settings land in Knative's own ConfigMaps", () => {
        const data = (name: string) => find(resources, CM_PATCH, `knative-serving-${name}`).inputs.data;
        expect(data("config-domain")).toEqual({ [stackConfig(env)["serverless-platform:domain"] as string]: "" });
        expect(data("config-autoscaler")).toMatchObject({
            "enable-scale-to-zero": "true",
            "max-scale-limit": { dev: "5", staging: "20", prod: "100" }[env],
            // Knative refuses a limit without a default inside it.
            "max-scale": { dev: "5", staging: "20", prod: "100" }[env],
            "allow-zero-initial-scale": String(!prod),
            "scale-to-zero-grace-period": prod ? "60s" : "30s",
        });
        expect(data("config-features")).toMatchObject({
            "tag-header-based-routing": "enabled",
            "kubernetes.podspec-volumes-emptydir": "enabled",
        });
        expect(data("config-observability")).toEqual({
            "metrics-protocol": "prometheus",
            "request-metrics-protocol": "prometheus",
        });
        expect(data("config-deployment")).toEqual({
            "progress-deadline": "600s",
            "registries-skipping-tag-resolving": "kind.local,ko.local,dev.local",
        });
    });

    test("mesh-wide mTLS is STRICT, and Knative's webhooks still answer the API server", () => {
        expect(find(resources, PEER_AUTH, "istio-mesh-mtls").inputs.spec).toEqual({ mtls: { mode: "STRICT" } });
        expect(
            ofType(resources, PEER_AUTH)
                .map((r) => r.inputs.metadata.name)
                .sort(),
        ).toEqual(["default", "eventing-webhook", "kafka-webhook-eventing"]);
        // Serving's webhooks (`webhook`, `net-istio-webhook`) have theirs in net-istio's manifest: a second resource
        // of the program for one of those objects would fight it under the stack's one field manager.
        // The Kafka webhook admits Kafka sources and brokers: its port is open to the API server before any is created.
        expect(find(resources, PEER_AUTH, "knative-eventing-kafka-webhook-mtls").inputs.spec).toEqual({
            selector: { matchLabels: { app: "kafka-webhook-eventing" } },
            portLevelMtls: { "8443": { mode: "PERMISSIVE" } },
        });
        for (const broker of ofType(resources, "kubernetes:eventing.knative.dev/v1:Broker")) {
            expect(dependsOnNames(broker)).toContain("knative-eventing-kafka-webhook-mtls");
        }
    });

    test(prod ? "prod is highly available" : `${env} is sized for its use`, () => {
        const istiod = find(resources, CHART, "istio-istiod").inputs.values;
        const gateway = find(resources, CHART, "istio-gateway").inputs.values;
        // Replicas are set on the manifests' own objects as they are applied, never by a second owner.
        expect(resources.filter((r) => r.type.endsWith("Patch") && r.inputs.spec?.replicas !== undefined)).toEqual([]);
        const pdbs = ofType(resources, "kubernetes:policy/v1:PodDisruptionBudget").map((r) => r.name);
        if (env === "dev") {
            expect(istiod.replicaCount).toBe(1);
            expect(istiod.affinity).toBeUndefined();
            expect(istiod.global.defaultPodDisruptionBudget).toEqual({ enabled: false });
            expect(gateway.podDisruptionBudget).toEqual({});
            expect(pdbs).toEqual([]);
        } else {
            const replicas = prod ? 3 : 2;
            expect(istiod.replicaCount).toBe(replicas);
            expect(istiod.affinity.podAntiAffinity).toBeDefined();
            expect(istiod.global.defaultPodDisruptionBudget).toEqual({ enabled: true });
            expect(gateway.podDisruptionBudget).toEqual({ minAvailable: 1 });
            expect(gateway.affinity.podAntiAffinity).toBeDefined();
            expect(pdbs).toEqual([
                "knative-serving-controller-pdb",
                "knative-serving-autoscaler-pdb",
                "knative-eventing-eventing-controller-pdb",
            ]);
        }
    });

    test("app namespaces are locked down: restricted pods, mesh injection, quota, default-deny ingress, a team Role", () => {
        const ns = find(resources, "kubernetes:core/v1:Namespace", "games-web").inputs.metadata.labels;
        expect(ns).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted", "istio-injection": "enabled" });
        // Created after the mesh's injection webhook and CNI, so that the first pods get their sidecars.
        expect(dependsOnNames(find(resources, "kubernetes:core/v1:Namespace", "games-web"))).toEqual(
            expect.arrayContaining(["istio-istiod", "istio-cni"]),
        );
        // Removing a namespace from the stack file lets go of it; it is never deleted with the teams' services in it.
        expect(find(resources, "kubernetes:core/v1:Namespace", "games-web").options.retainOnDelete).toBe(true);
        expect(
            find(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "games-web-default-deny").inputs.spec,
        ).toEqual({
            podSelector: {},
            policyTypes: ["Ingress"],
        });
        const allow = find(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "games-web-allow-platform")
            .inputs.spec;
        // Monitoring too: Prometheus scrapes queue-proxy and Envoy in app namespaces.
        expect(allow.ingress[0].from[1].namespaceSelector.matchExpressions[0].values).toEqual([
            "istio-system",
            "knative-serving",
            "knative-eventing",
            "monitoring",
        ]);
        // Egress anywhere but the instance metadata endpoint; pods as peers by namespace, whatever the network plugin.
        expect(
            find(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "games-web-deny-cloud-metadata").inputs
                .spec,
        ).toEqual({
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [
                {
                    to: [
                        { ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } },
                        { ipBlock: { cidr: "::/0", except: ["fd00:ec2::254/128"] } },
                        { namespaceSelector: {} },
                    ],
                },
            ],
        });
        const binding = find(
            resources,
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
            "games-web-app-team",
        ).inputs;
        expect(binding.subjects).toEqual([
            { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "games-web-developers" },
        ]);
        // The program's only ClusterRoles are the platform's preview identity's: nothing cluster-wide for app teams.
        expect(
            ofType(resources, "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
                .map((r) => r.name)
                .sort(),
        ).toEqual(["previews-platform", "previews-platform-secrets"]);
        expect(
            find(resources, "kubernetes:core/v1:ResourceQuota", "games-batch-quota").inputs.spec.hard,
        ).toHaveProperty("pods");
    });

    test("a default Broker where a namespace wants one, of the environment's broker class", () => {
        const brokers = ofType(resources, BROKER);
        expect(brokers.map((b) => b.inputs.metadata.namespace)).toEqual(["games-web"]);
        const brokerClass = env === "dev" ? "MTChannelBasedBroker" : "Kafka";
        expect(brokers[0]?.inputs.metadata.annotations).toEqual({
            "eventing.knative.dev/broker.class": brokerClass,
            [FIELD_MANAGER_ANNOTATION]: `serverless-platform/${env}`,
        });
    });

    test("every object the program writes is applied under the stack's field manager; patches keep their own", () => {
        // Objects have a kind; charts and manifests (components the provider expands) do not.
        const objects = resources.filter((r) => r.type.startsWith("kubernetes:") && r.inputs.kind !== undefined);
        const managerOf = (r: Registered) => r.inputs.metadata.annotations?.[FIELD_MANAGER_ANNOTATION];
        const patches = objects.filter((r) => r.type.endsWith("Patch"));
        expect(patches.length).toBeGreaterThan(0);
        expect(patches.map(managerOf)).toEqual(patches.map(() => undefined));
        const written = objects.filter((r) => !r.type.endsWith("Patch"));
        expect(written.length).toBeGreaterThan(0);
        expect(new Set(written.map(managerOf))).toEqual(new Set([`serverless-platform/${env}`]));
    });

    test("every Kubernetes object goes through the environment's provider", () => {
        const providers = resources.filter((r) => r.type === "pulumi:providers:kubernetes");
        expect(providers.map((p) => p.name)).toEqual([`${env}-cluster`]);
        expect(providers[0]?.inputs.enableServerSideApply).toBe("true");
        // ConfigMap edits are in-place updates, not delete-then-create replacements of fixed names.
        expect(providers[0]?.inputs.enableConfigMapMutable).toBe("true");
    });

    test("exports what app stacks need", () => {
        expect(outputs).toMatchObject({
            environment: env,
            appNamespaces: ["games-web", "games-batch"],
            knativeLimits: {
                maxScaleLimit: { dev: 5, staging: 20, prod: 100 }[env],
                allowZeroInitialScale: !prod,
                containerConcurrencyMaxLimit: 1000,
            },
            versions: stackVersionsOf(KNATIVE),
        });
    });

    test("exports only what PLATFORM_OUTPUTS lists with why a reader needs it, and no secret: every app stack reads them", async () => {
        expect(Object.keys(outputs).sort()).toEqual(Object.keys(PLATFORM_OUTPUTS).sort());
        for (const [key, value] of Object.entries(outputs)) {
            expect(await pulumi.isSecret(pulumi.output(value)), key).toBe(false);
            expect(JSON.stringify(value), key).not.toContain(
                DEPLOY_TIME_CONFIG["serverless-platform:grafanaAdminPassword"],
            );
        }
    });
});

describe("environments differ in config only", () => {
    test("every stack file sets the same keys", () => {
        const keys = STACKS.map((env) => Object.keys(stackConfig(env)).sort());
        expect(keys[1]).toEqual(keys[0]);
        expect(keys[2]).toEqual(keys[0]);
    });
});

describe("an app namespace that opens the cloud's metadata endpoint", () => {
    // Quotas dev's node pool holds, as its stack file's do.
    const SMALL_QUOTA = { cpu: "4", memory: "8Gi", pods: 40 };
    test("gets no policy denying it; the others keep theirs", async () => {
        const { resources } = await deploy("dev", {
            "serverless-platform:namespaces": JSON.stringify({
                "games-web": { group: "games-web-developers", cloudMetadata: true, quota: SMALL_QUOTA },
                "games-batch": { group: "games-batch-developers", broker: false, quota: SMALL_QUOTA },
            }),
        });
        const denials = ofType(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .map((policy) => policy.name)
            .filter((name) => name.endsWith("-deny-cloud-metadata"));
        expect(denials).toEqual(["games-batch-deny-cloud-metadata"]);
    });
});

describe("mirrors for air-gapped installs", () => {
    test("chart repository, manifest base and image registries come from sources", async () => {
        const { resources } = await deploy("dev", {
            "serverless-platform:sources": JSON.stringify({
                istioChartRepository: "https://charts.mirror.example.com/istio",
                istioImageHub: "registry.mirror.example.com/istio",
                knativeManifestBaseUrl: "/srv/mirror/github",
                knativeImageRegistry: "registry.mirror.example.com/knative-releases",
            }),
        });
        for (const chart of ofType(resources, CHART).filter((r) => r.name.startsWith("istio-"))) {
            expect(chart.inputs.repositoryOpts.repo).toBe("https://charts.mirror.example.com/istio");
        }
        expect(find(resources, CHART, "istio-istiod").inputs.values.global.hub).toBe(
            "registry.mirror.example.com/istio",
        );
        expect(manifestFiles(resources)["knative-serving-core"]).toBe(
            `/srv/mirror/github/knative/serving/releases/download/knative-v${KNATIVE.serving}/serving-core.yaml`,
        );
        // A manifest's own custom resource (Serving's caching Image, say) is edited as the ConfigFile's objects are.
        expect(
            find(resources, THING("serving-core"), "knative-serving-core:knative-test/a-serving-core").inputs,
        ).toEqual(expect.objectContaining({ spec: { image: "registry.mirror.example.com/knative-releases/thing" } }));
    });
});
