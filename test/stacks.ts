import type { ClusterFacts } from "../components/platform/compatibility.ts";
/** Reads the platform's stack files the way the Pulumi CLI hands them to a program. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { ManifestReader } from "../components/platform/knative-manifests.ts";
import {
    DEFAULT_KNATIVE,
    KNATIVE_RELEASES,
    KNATIVE_RELEASE_REGISTRY,
    knativeManifests,
} from "../components/platform/versions.ts";
import platform from "../index.ts";
import { runProgram } from "./harness.ts";

export const STACKS = ["dev", "staging", "prod"] as const;

/**
 * What a deploying team sets on top of the stack file: the cluster (`pulumi config set
 * kubernetes:context`) and the secrets (`pulumi config set --secret`).
 */
export const DEPLOY_TIME_CONFIG = {
    "kubernetes:context": "test-cluster",
    "serverless-platform:grafanaAdminPassword": "test-grafana-admin-password",
    "serverless-platform:logShipperPassword": "test-log-shipper-password",
} as const;

/**
 * `stacks/Pulumi.<env>.yaml` as the engine passes config (every value a string, objects as JSON),
 * with {@link DEPLOY_TIME_CONFIG} on top.
 */
export function stackConfig(env: string): Record<string, string> {
    const file = fileURLToPath(new URL(`../stacks/Pulumi.${env}.yaml`, import.meta.url));
    const { config } = parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    return {
        ...DEPLOY_TIME_CONFIG,
        ...Object.fromEntries(
            Object.entries(config).map(([key, value]) => [
                key,
                typeof value === "string" ? value : JSON.stringify(value),
            ]),
        ),
    };
}

/** The target cluster as the compatibility check reads it: the Kubernetes the platform is tested on, nothing installed. */
export const FRESH_CLUSTER = (): Promise<ClusterFacts> =>
    Promise.resolve({
        kubernetes: "1.34",
        installedKnative: undefined,
        installedIstio: undefined,
        installedElasticsearch: undefined,
        // The classes the stacks' files name, and a default for those that name none.
        storageClasses: { names: ["standard", "fast-ssd"], default: "standard" },
        crds: [],
    });

/**
 * Knative's manifests as the unit tests read them, with no network: per manifest a ConfigMap, after a comment naming
 * where it was read from (which the copy the ConfigFile installs keeps), and, for a manifest that ships CRDs, one
 * CRD `<file>s.<file>.example` and a `Thing` of it, `a-<file>`, whose image is in Knative's registry. The real manifests are read in the e2e, and checked against the flags in
 * test/knative-manifests.test.ts.
 */
export const TEST_MANIFESTS: ManifestReader = (location) => {
    const file = location.slice(location.lastIndexOf("/") + 1);
    const stem = file.replace(/\.yaml$/, "");
    const shipsCrds = Object.values(knativeManifests(KNATIVE_RELEASES[DEFAULT_KNATIVE])).some(
        (manifest) => manifest.file === file && manifest.crds,
    );
    const configMap = [
        `# read from ${location}`,
        "apiVersion: v1",
        "kind: ConfigMap",
        `metadata: { name: ${stem}, namespace: knative-test }`,
    ].join("\n");
    const crd = [
        "apiVersion: apiextensions.k8s.io/v1",
        "kind: CustomResourceDefinition",
        `metadata: { name: ${stem}s.${stem}.example }`,
        `spec: { group: ${stem}.example, names: { kind: Thing, plural: ${stem}s }, scope: Namespaced }`,
    ].join("\n");
    const thing = [
        `apiVersion: ${stem}.example/v1`,
        "kind: Thing",
        `metadata: { name: a-${stem}, namespace: knative-test }`,
        `spec: { image: ${KNATIVE_RELEASE_REGISTRY}/thing }`,
    ].join("\n");
    return Promise.resolve(shipsCrds ? `${configMap}\n---\n${crd}\n---\n${thing}\n` : `${configMap}\n`);
};

/** The platform program as the unit tests run it: on {@link FRESH_CLUSTER}, reading {@link TEST_MANIFESTS}. */
export const platformUnderTest = () => platform(FRESH_CLUSTER, TEST_MANIFESTS);

/** Runs the platform program for one stack (its config, with `override` on top): what it registers and exports. */
export async function deployPlatform(env: string, override: Record<string, string> = {}) {
    let outputs: Record<string, any> = {};
    const resources = await runProgram(
        async () => {
            outputs = await platformUnderTest();
        },
        { stack: env, config: { ...stackConfig(env), ...override } },
    );
    return { resources, outputs };
}

/** The platform's outputs for one stack, as a StackReference would read them. */
export async function platformOutputs(env: string): Promise<Record<string, unknown>> {
    return (await deployPlatform(env)).outputs;
}
