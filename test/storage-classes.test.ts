import { describe, expect, test } from "vitest";
import { InvalidArgumentsError } from "../components/shared/problems.ts";
import type { StorageClasses } from "../components/platform/compatibility.ts";
import { enforceStorageClasses, monitoringClaims } from "../components/platform/storage-classes.ts";
import platform from "../index.ts";
import { runProgram } from "./harness.ts";
import { FRESH_CLUSTER, TEST_MANIFESTS, stackConfig } from "./stacks.ts";

const SUBJECT = 'Stack "prod" (stacks/Pulumi.prod.yaml)';
const CLUSTER: StorageClasses = { names: ["standard", "fast-ssd"], default: "standard" };

/** The error `enforceStorageClasses` throws for these claims, or undefined. */
function refusal(claims: Parameters<typeof enforceStorageClasses>[0], cluster = CLUSTER): string | undefined {
    try {
        enforceStorageClasses(claims, cluster, SUBJECT);
        return undefined;
    } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentsError);
        return (error as Error).message;
    }
}

describe("StorageClasses the stack's volumes claim", () => {
    test("a class the cluster has, or its default, is accepted", () => {
        expect(refusal([{ key: "monitoring.logs.storageClass", storageClass: "fast-ssd" }])).toBeUndefined();
        expect(refusal([{ key: "monitoring.logs.storageClass", storageClass: undefined }])).toBeUndefined();
    });

    test("a class the cluster lacks is refused with the classes it has", () => {
        expect(refusal([{ key: "monitoring.metrics.storageClass", storageClass: "premium" }])).toBe(
            `${SUBJECT}: monitoring.metrics.storageClass must name a StorageClass of the cluster; the cluster has standard (default), fast-ssd (got "premium")`,
        );
        expect(
            refusal([{ key: "monitoring.logs.storageClass", storageClass: "fast-ssd" }], {
                names: [],
                default: undefined,
            }),
        ).toBe(
            `${SUBJECT}: monitoring.logs.storageClass must name a StorageClass of the cluster; the cluster has no StorageClass (got "fast-ssd")`,
        );
    });

    test("the cluster's default, on a cluster without one, is refused", () => {
        expect(
            refusal([{ key: "monitoring.logs.storageClass", storageClass: undefined }], {
                names: ["slow"],
                default: undefined,
            }),
        ).toBe(
            `${SUBJECT}: monitoring.logs.storageClass must name a StorageClass: the cluster has slow, and none is its default (got undefined)`,
        );
    });

    test("only persistent volumes the stack installs claim a class", () => {
        const monitoring = (metrics: object, logs: object) =>
            ({
                metrics: { enabled: true, persistent: true, storageClass: "a", ...metrics },
                logs: { enabled: true, persistent: true, storageClass: "b", externalElasticsearch: undefined, ...logs },
            }) as unknown as Parameters<typeof monitoringClaims>[0];
        expect(monitoringClaims(monitoring({}, {}))).toEqual([
            { key: "monitoring.metrics.storageClass", storageClass: "a" },
            { key: "monitoring.logs.storageClass", storageClass: "b" },
        ]);
        expect(monitoringClaims(monitoring({ persistent: false }, { enabled: false }))).toEqual([]);
        expect(monitoringClaims(monitoring({ enabled: false }, { externalElasticsearch: "https://es:9200" }))).toEqual(
            [],
        );
    });

    test("prod on a cluster without its fast-ssd class is refused before anything is registered", async () => {
        const cluster = async () => ({
            ...(await FRESH_CLUSTER()),
            storageClasses: { names: ["standard"], default: "standard" },
        });
        let failure: unknown;
        const resources = await runProgram(
            async () => {
                await platform(cluster, TEST_MANIFESTS).catch((error: unknown) => (failure = error));
            },
            { stack: "prod", config: stackConfig("prod") },
        );
        expect(String(failure)).toContain(
            `${SUBJECT}: monitoring.metrics.storageClass must name a StorageClass of the cluster; the cluster has standard (default) (got "fast-ssd")`,
        );
        expect(String(failure)).toContain("monitoring.logs.storageClass must name a StorageClass of the cluster");
        expect(resources.filter((r) => r.type !== "pulumi:pulumi:Stack")).toEqual([]);
    });
});
