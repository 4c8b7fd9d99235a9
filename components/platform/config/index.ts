/**
 * The platform stack's configuration: every key the program reads, from its schema (one section
 * per file beside this one), checked all at once before anything is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { ENVIRONMENTS, type Environment } from "../../shared/environments.ts";
import { Problems } from "../../shared/problems.ts";
import { RULE_IDS, type RuleId } from "../compatibility.ts";
import { EVENTING_SCHEMA } from "./eventing.ts";
import { ISTIO_SCHEMA } from "./istio.ts";
import { KNATIVE_SCHEMA } from "./knative.ts";
import { MONITORING_SCHEMA, type MonitoringConfig } from "./monitoring.ts";
import { NAMESPACES_SCHEMA } from "./namespaces.ts";
import { NODE_POOL_SCHEMA } from "./node-pool.ts";
import { type Field, type ValueOf, field, section } from "./schema.ts";
import { SOURCES_SCHEMA } from "./sources.ts";

export type { AppNamespace } from "./namespaces.ts";
export type { EventingConfig } from "./eventing.ts";
export type { IstioConfig } from "./istio.ts";
export { type KnativeConfig, knativeLimitsOf } from "./knative.ts";
export type { MonitoringConfig } from "./monitoring.ts";
export type { NodePool } from "./node-pool.ts";

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$/;

const COMPATIBILITY_SCHEMA = section(
    "compatibility rules this stack knowingly breaks, each then a warning on every preview instead of a refusal",
    {
        accept: field<RuleId[]>(`rules to accept, of ${RULE_IDS.join(", ")}`, [], (problems, path, accept) => {
            if (!Array.isArray(accept)) {
                problems.add(path, `must be a list of rules (${RULE_IDS.join(", ")})`, accept);
                return [];
            }
            return accept.filter((rule): rule is RuleId => problems.oneOf(path, rule, RULE_IDS));
        }),
    },
);

/** How the stack gives a top-level key: a plain string, a YAML object, or a secret. */
export type ConfigType = "string" | "object" | "secret";

interface TopLevelKey<T> {
    type: ConfigType;
    schema: Field<T>;
    /** The stack must set it. */
    required: boolean;
}

const key = <T>(type: ConfigType, schema: Field<T>, required = type === "secret"): TopLevelKey<T> => ({
    type,
    schema,
    required,
});

/** A secret the stack must set: `pulumi config set --secret <key> <password>`. */
function password(doc: string): Field<pulumi.Output<string>> {
    return {
        doc,
        shown: undefined,
        read(problems, path, value) {
            if (value === undefined) {
                problems.add(
                    path,
                    `must be set: pulumi config set --secret ${path} <password> --stack <env>`,
                    undefined,
                );
            }
            return (value as pulumi.Output<string> | undefined) ?? pulumi.secret("");
        },
    };
}

/** Every top-level key of the platform's config, in the order the reference lists them. */
export const PLATFORM_SCHEMA = {
    environment: key<Environment>(
        "string",
        {
            doc: `which environment this stack is (${ENVIRONMENTS.join(", ")}); environments differ in config only`,
            shown: undefined,
            read: (problems, path, environment) => {
                problems.oneOf(path, environment, ENVIRONMENTS);
                return environment as Environment;
            },
        },
        true,
    ),
    domain: key<string>(
        "string",
        {
            doc: "DNS domain public Knative Services are served on: `<service>.<namespace>.<domain>`",
            shown: undefined,
            read: (problems, path, domain) => {
                if (typeof domain !== "string" || !DOMAIN.test(domain)) {
                    problems.add(path, 'must be a lowercase DNS domain such as "dev.games.example.com"', domain);
                }
                return typeof domain === "string" ? domain : "";
            },
        },
        true,
    ),
    namespaces: key("object", NAMESPACES_SCHEMA, true),
    nodePool: key("object", NODE_POOL_SCHEMA),
    istio: key("object", ISTIO_SCHEMA),
    knative: key("object", KNATIVE_SCHEMA),
    eventing: key("object", EVENTING_SCHEMA),
    monitoring: key("object", MONITORING_SCHEMA),
    sources: key("object", SOURCES_SCHEMA),
    compatibility: key("object", COMPATIBILITY_SCHEMA),
    grafanaAdminPassword: key("secret", password("Grafana's admin password")),
    logShipperPassword: key("secret", password("Fluent Bit's password on the platform's Elasticsearch")),
} as const;

type Schema = typeof PLATFORM_SCHEMA;
type Read<K extends keyof Schema> = Schema[K]["schema"] extends Field<infer T> ? T : never;

/** The platform stack's configuration, typed and checked. */
export interface PlatformConfig {
    environment: Environment;
    domain: string;
    /**
     * Which cluster, from the Kubernetes provider's own config keys: `kubernetes:kubeconfig` (a
     * secret) or `kubernetes:context`; one of them is required.
     */
    kubernetes: { context: string | undefined; kubeconfig: pulumi.Output<string> | undefined };
    namespaces: Read<"namespaces">;
    nodePool: Read<"nodePool">;
    istio: Read<"istio">;
    knative: Read<"knative">;
    eventing: Read<"eventing">;
    monitoring: MonitoringConfig;
    sources: Read<"sources">;
    compatibility: ValueOf<typeof COMPATIBILITY_SCHEMA.fields>;
}

/** The config keys this project reads, so that a typo is reported instead of ignored. */
export const CONFIG_KEYS = Object.keys(PLATFORM_SCHEMA) as (keyof Schema)[];

/** Where the stack files are: `stackConfigDir` in Pulumi.yaml. */
export const STACK_CONFIG_DIR = "stacks";

/** How errors name the running stack and its file: `Stack "dev" (stacks/Pulumi.dev.yaml)`. */
export function stackLabel(): string {
    const stack = pulumi.getStack();
    return `Stack "${stack}" (${STACK_CONFIG_DIR}/Pulumi.${stack}.yaml)`;
}

/** The Kubernetes provider's own keys: which cluster, never the ambient kubeconfig's current context. */
function readCluster(problems: Problems): PlatformConfig["kubernetes"] {
    const kubernetesConfig = new pulumi.Config("kubernetes");
    const context = kubernetesConfig.get("context");
    const kubeconfig = kubernetesConfig.getSecret("kubeconfig");
    if (context !== undefined && kubeconfig !== undefined) {
        problems.addMessage("set kubernetes:context or kubernetes:kubeconfig, not both");
    }
    // Whoever has prod selected would otherwise get dev installed there.
    if (context === undefined && kubeconfig === undefined) {
        problems.addMessage(
            "names no cluster: set kubernetes:context (a context of your kubeconfig) or kubernetes:kubeconfig " +
                "(with --secret); `npm run up -- <env>` deploys a stack that names neither to the local simulated cluster",
        );
    }
    return { context, kubeconfig };
}

/**
 * Reads and checks the platform config of the current stack. `configuredKeys` are the keys set
 * in the stack file (without the project prefix); unknown ones are an error, since a misspelt key
 * would otherwise silently take its default. Every problem is reported at once.
 */
export function readPlatformConfig(config: pulumi.Config, configuredKeys: readonly string[]): PlatformConfig {
    const problems = new Problems(stackLabel());
    for (const configured of configuredKeys) {
        if (!(CONFIG_KEYS as readonly string[]).includes(configured)) {
            problems.add(configured, `is not a known key; known keys: ${CONFIG_KEYS.join(", ")}`, configured);
        }
    }
    const raw = (name: keyof Schema): unknown => {
        const type = PLATFORM_SCHEMA[name].type;
        return type === "secret"
            ? config.getSecret(name)
            : type === "object"
              ? config.getObject(name)
              : config.get(name);
    };
    const read = <K extends keyof Schema>(name: K): Read<K> =>
        (PLATFORM_SCHEMA[name].schema as Field<Read<K>>).read(problems, name, raw(name));

    const environment = read("environment");
    const domain = read("domain");
    const kubernetes = readCluster(problems);
    const namespaces = read("namespaces");
    const nodePool = read("nodePool");
    const istio = read("istio");
    const knative = read("knative");
    const eventing = read("eventing");
    const monitoring = read("monitoring");
    const result: PlatformConfig = {
        environment,
        domain,
        kubernetes,
        namespaces,
        nodePool,
        istio,
        knative,
        eventing,
        monitoring: {
            ...monitoring,
            metrics: { ...monitoring.metrics, grafanaAdminPassword: read("grafanaAdminPassword") },
            logs: { ...monitoring.logs, shipperPassword: read("logShipperPassword") },
        },
        sources: read("sources"),
        compatibility: read("compatibility"),
    };
    if (result.environment === "prod" && result.istio.mtls !== "STRICT") {
        problems.add("istio.mtls", 'must be "STRICT" in prod', result.istio.mtls);
    }
    problems.throwIfAny();
    return result;
}

/** {@link readPlatformConfig} for the stack the program runs as, with the keys its stack file sets. */
export function readStackPlatformConfig(): PlatformConfig {
    const prefix = `${pulumi.getProject()}:`;
    const configuredKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((name) => name.startsWith(prefix))
        .map((name) => name.slice(prefix.length));
    return readPlatformConfig(new pulumi.Config(), configuredKeys);
}
