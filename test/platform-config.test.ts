/** A bad platform config stops the program before anything is registered, naming the key, the value and the rule. */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { STACK_CONFIG_DIR } from "../components/platform/config/index.ts";
import { runProgram } from "./harness.ts";
import { platformUnderTest, stackConfig } from "./stacks.ts";

describe("a bad stack config fails with a message naming the key, the value and the rule", () => {
    const S = 'Stack "dev" (stacks/Pulumi.dev.yaml)';
    const cases: [string, Record<string, string>, string][] = [
        [
            "an unknown key",
            { "serverless-platform:maxScaleLimit": "5" },
            `${S}: maxScaleLimit is not a known key; known keys: environment, domain, namespaces, nodePool, istio, knative, eventing, monitoring, sources, compatibility, grafanaAdminPassword, logShipperPassword (got "maxScaleLimit")`,
        ],
        [
            "an unknown key in a section",
            { "serverless-platform:knative": '{"replica": 2}' },
            `${S}: knative.replica is not a known key; known keys: version, replicas, maxScaleLimit, allowZeroInitialScale, containerConcurrencyMaxLimit, scaleToZeroGracePeriod, stableWindow, targetConcurrency, progressDeadline, registriesSkippingTagResolving (got "replica")`,
        ],
        [
            "an unknown environment",
            { "serverless-platform:environment": "qa" },
            `${S}: environment must be one of "dev", "staging", "prod" (got "qa")`,
        ],
        [
            "a bad domain",
            { "serverless-platform:domain": "Games.Example" },
            `${S}: domain must be a lowercase DNS domain such as "dev.games.example.com" (got "Games.Example")`,
        ],
        [
            "no namespaces",
            { "serverless-platform:namespaces": "{}" },
            `${S}: namespaces must map each app namespace to its settings ({ group, broker?, cloudMetadata?, quota? }) (got {})`,
        ],
        [
            "a system namespace",
            { "serverless-platform:namespaces": '{"knative-serving": {"group": "x"}}' },
            `${S}: namespaces keys must be DNS-1123 labels, not default nor one of the platform's own namespaces (kube-system, istio-system, knative-serving, knative-eventing, monitoring, elastic-system, platform-previews, kube-*, knative-*, istio-*) (got "knative-serving")`,
        ],
        [
            "a namespace without its group",
            { "serverless-platform:namespaces": '{"games-web": {}}' },
            `${S}: namespaces.games-web.group must name the group that manages the namespace (got undefined)`,
        ],
        [
            "a quota that is not a quantity",
            { "serverless-platform:namespaces": '{"games-web": {"group": "g", "quota": {"cpu": "lots"}}}' },
            `${S}: namespaces.games-web.quota.cpu must be a positive Kubernetes quantity such as "8" or "16Gi" (got "lots")`,
        ],
        [
            "a broker flag that is not a boolean",
            { "serverless-platform:namespaces": '{"games-web": {"group": "g", "broker": "yes"}}' },
            `${S}: namespaces.games-web.broker must be true or false (got "yes")`,
        ],
        [
            "a node pool of no nodes",
            { "serverless-platform:nodePool": '{"nodes": 0}' },
            `${S}: nodePool.nodes must be a whole number ≥ 1 (got 0)`,
        ],
        [
            "a node size that is not a quantity, such as a bare number",
            { "serverless-platform:nodePool": '{"cpu": 8}' },
            `${S}: nodePool.cpu must be a positive Kubernetes quantity such as "8" (got 8)`,
        ],
        [
            "negative replicas",
            { "serverless-platform:istio": '{"replicas": -1}' },
            `${S}: istio.replicas must be a whole number ≥ 1 (got -1)`,
        ],
        [
            "an unknown gateway service type",
            { "serverless-platform:istio": '{"gatewayServiceType": "Ingress"}' },
            `${S}: istio.gatewayServiceType must be one of "LoadBalancer", "NodePort", "ClusterIP" (got "Ingress")`,
        ],
        [
            "an unknown broker kind",
            { "serverless-platform:eventing": '{"broker": "rabbitmq"}' },
            `${S}: eventing.broker must be one of "in-memory", "kafka" (got "rabbitmq")`,
        ],
        [
            "a Kafka broker without Kafka",
            { "serverless-platform:eventing": '{"broker": "kafka"}' },
            `${S}: eventing.kafka must give bootstrapServers when eventing.broker is "kafka" (got undefined)`,
        ],
        [
            "a bad Kafka address",
            { "serverless-platform:eventing": '{"broker": "kafka", "kafka": {"bootstrapServers": ["kafka"]}}' },
            `${S}: eventing.kafka.bootstrapServers must be a non-empty list of "host:port" (got ["kafka"])`,
        ],
        [
            "a mirror URL that is not a URL",
            { "serverless-platform:sources": '{"istioChartRepository": "charts.mirror"}' },
            `${S}: sources.istioChartRepository must be an http(s) URL (got "charts.mirror")`,
        ],
        [
            "a relative mirror directory",
            { "serverless-platform:sources": '{"knativeManifestBaseUrl": "mirror/github"}' },
            `${S}: sources.knativeManifestBaseUrl must be an http(s) URL or an absolute directory of a mirror (got "mirror/github")`,
        ],
        [
            "a bad duration",
            { "serverless-platform:knative": '{"stableWindow": "1 minute"}' },
            `${S}: knative.stableWindow must be a Go duration in whole seconds, e.g. "30s" or "10m" (got "1 minute")`,
        ],
        [
            "a stable window Knative refuses",
            { "serverless-platform:knative": '{"stableWindow": "2s"}' },
            `${S}: knative.stableWindow must lie between 6s and 1h (Knative's autoscaler window bounds) (got "2s")`,
        ],
        [
            "a progress deadline Knative refuses",
            { "serverless-platform:knative": '{"progressDeadline": "0s"}' },
            `${S}: knative.progressDeadline must be positive (Knative refuses 0s) (got "0s")`,
        ],
        [
            "a registry that is not a host",
            { "serverless-platform:knative": '{"registriesSkippingTagResolving": ["https://registry.corp.example"]}' },
            `${S}: knative.registriesSkippingTagResolving must be a list of registry hosts, e.g. ["registry.corp.example:5000"] (got ["https://registry.corp.example"])`,
        ],
        [
            "PERMISSIVE mTLS in prod",
            { "serverless-platform:environment": "prod", "serverless-platform:istio": '{"mtls": "PERMISSIVE"}' },
            `${S}: istio.mtls must be "STRICT" in prod (got "PERMISSIVE")`,
        ],
        [
            "both a context and a kubeconfig",
            { "kubernetes:context": "dev", "kubernetes:kubeconfig": "apiVersion: v1" },
            `${S}: set kubernetes:context or kubernetes:kubeconfig, not both`,
        ],
    ];
    /** The program refuses `config` with `message`, before registering anything but the stack. */
    async function refused(config: Record<string, string>, message: string): Promise<void> {
        const registered = await runProgram(
            async () => {
                await expect(platformUnderTest()).rejects.toThrow(message);
            },
            { config },
        );
        expect(registered.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    }

    test.each(cases)("%s", async (_, override, message) => {
        await refused({ ...stackConfig("dev"), ...override }, message);
    });

    /** The dev stack's config without `key`. */
    const without = (key: string) => Object.fromEntries(Object.entries(stackConfig("dev")).filter(([k]) => k !== key));

    test("required keys missing are reported together with every other problem", async () => {
        const config = Object.fromEntries(
            Object.entries(stackConfig("dev")).filter(
                ([key]) => !["serverless-platform:domain", "serverless-platform:environment"].includes(key),
            ),
        );
        await refused(
            { ...config, "serverless-platform:istio": '{"mtls": "LOOSE"}' },
            [
                `${S}: environment must be one of "dev", "staging", "prod" (got undefined)`,
                `${S}: domain must be a lowercase DNS domain such as "dev.games.example.com" (got undefined)`,
                `${S}: istio.mtls must be one of "STRICT", "PERMISSIVE" (got "LOOSE")`,
            ].join("\n"),
        );
    });

    test("the stack file is where Pulumi.yaml says stack files are", () => {
        const settings = parse(readFileSync(new URL("../Pulumi.yaml", import.meta.url), "utf8")) as {
            stackConfigDir: string;
        };
        expect(settings.stackConfigDir).toBe(STACK_CONFIG_DIR);
    });

    test("a monitoring password not set", async () => {
        await refused(
            without("serverless-platform:grafanaAdminPassword"),
            `${S}: grafanaAdminPassword must be set: pulumi config set --secret grafanaAdminPassword <password> --stack <env> (got undefined)`,
        );
    });

    test("no cluster named: never the ambient kubeconfig's current context", async () => {
        await refused(
            without("kubernetes:context"),
            `${S}: names no cluster: set kubernetes:context (a context of your kubeconfig) or ` +
                "kubernetes:kubeconfig (with --secret); `npm run up -- <env>` deploys a stack that names " +
                "neither to the local simulated cluster",
        );
    });
});
