import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../shared/environments.ts";
import type { KnativeLimits } from "../shared/knative-limits.ts";

/**
 * What an app stack knows about the platform it deploys onto, read from the
 * platform stack's outputs through a StackReference. The values are plain
 * (not Outputs), so ServerlessService can check an app against them before
 * anything is registered.
 *
 * ```ts
 * const platform = await PlatformReference.fromStack("acme/serverless-platform/dev");
 * new ServerlessService("api", {
 *     namespace: platform.namespace("games-web"),
 *     platform: platform.knativeLimits,
 *     image: "registry.example.com/api:1.4.2",
 * });
 * ```
 */
export class PlatformReference {
    readonly environment: Environment;
    readonly domain: string;
    readonly appNamespaces: readonly string[];
    readonly knativeLimits: KnativeLimits;
    /** The Broker of each app namespace that has one (`{ "games-web": "default" }`). */
    readonly brokers: Readonly<Record<string, string>>;
    /** Kafka's "host:port" list, empty when the environment has no Kafka. */
    readonly kafkaBootstrapServers: readonly string[];
    /** In-cluster address of the ingress gateway. */
    readonly ingressGateway: string;
    /** Versions of Istio and Knative installed. */
    readonly versions: Readonly<Record<string, string>>;

    private constructor(outputs: Record<string, unknown>) {
        this.environment = outputs.environment as Environment;
        this.domain = outputs.domain as string;
        this.appNamespaces = outputs.appNamespaces as string[];
        this.knativeLimits = outputs.knativeLimits as KnativeLimits;
        this.brokers = outputs.brokers as Record<string, string>;
        this.kafkaBootstrapServers = outputs.kafkaBootstrapServers as string[];
        this.ingressGateway = outputs.ingressGateway as string;
        this.versions = outputs.versions as Record<string, string>;
    }

    /** Reads the outputs of the platform stack `stackName` ("<org>/serverless-platform/<env>"). */
    static async fromStack(stackName: string, opts?: pulumi.CustomResourceOptions): Promise<PlatformReference> {
        const stack = new pulumi.StackReference(stackName, { name: stackName }, opts);
        const keys = [
            "environment",
            "domain",
            "appNamespaces",
            "knativeLimits",
            "brokers",
            "kafkaBootstrapServers",
            "ingressGateway",
            "versions",
        ] as const;
        const values = await Promise.all(keys.map((key) => stack.requireOutputValue(key)));
        return new PlatformReference(Object.fromEntries(keys.map((key, i) => [key, values[i]])));
    }

    /** Returns `name` when it is one of the platform's app namespaces; throws, naming them, otherwise. */
    namespace(name: string): string {
        if (!this.appNamespaces.includes(name)) {
            throw new Error(
                `Namespace "${name}" is not an app namespace of the ${this.environment} platform; choose one of ${this.appNamespaces.join(", ")}`,
            );
        }
        return name;
    }

    /** The Broker of `namespace`; throws when the platform gives it none. */
    broker(namespace: string): string {
        const broker = this.brokers[namespace];
        if (broker === undefined) {
            throw new Error(
                `Namespace "${namespace}" has no Broker on the ${this.environment} platform; set namespaces.${namespace}.broker`,
            );
        }
        return broker;
    }
}
