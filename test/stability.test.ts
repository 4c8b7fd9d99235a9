/**
 * A config change that should be an in-place update must not change any
 * resource's name or URN (type, name and parent): otherwise the PR preview
 * shows a replace, and for a Knative Service or a StatefulSet's data that is
 * an outage.
 */
import { describe, expect, test } from "vitest";
import { ServerlessService, type ServerlessServiceArgs, Traffic } from "../components/index.ts";
import { type Registered, runProgram } from "./harness.ts";
import { platformUnderTest, stackConfig } from "./stacks.ts";

const identities = (resources: Registered[]) =>
    resources.map((r) => `${r.parentName ?? ""}|${r.type}|${r.name}|${String(r.inputs.metadata?.name ?? "")}`).sort();
const inputsOf = (resources: Registered[]) => JSON.stringify(resources.map((r) => r.inputs).sort());

describe("the platform: updates keep every name and URN", () => {
    const base = stackConfig("dev");
    const withSection = (key: string, change: Record<string, unknown>) => {
        const current = JSON.parse(base[`serverless-platform:${key}`] ?? "{}") as Record<string, unknown>;
        return { ...base, [`serverless-platform:${key}`]: JSON.stringify({ ...current, ...change }) };
    };
    test.each([
        ["a Knative autoscaler setting", withSection("knative", { scaleToZeroGracePeriod: "90s", maxScaleLimit: 8 })],
        ["the gateway's replicas", withSection("istio", { gatewayReplicas: 1, gatewayServiceType: "LoadBalancer" })],
        [
            "a namespace quota",
            withSection("namespaces", {
                "games-web": { group: "games-web-developers", quota: { cpu: "12", memory: "24Gi", pods: 90 } },
            }),
        ],
        ["metrics retention", withSection("monitoring", { metrics: { retention: "5d", persistent: false } })],
    ])("%s", async (_, config) => {
        const before = await runProgram(platformUnderTest, { config: base });
        const after = await runProgram(platformUnderTest, { config });
        expect(inputsOf(after)).not.toBe(inputsOf(before));
        expect(identities(after)).toEqual(identities(before));
    });
});

describe("ServerlessService: updates keep every name and URN", () => {
    const base: ServerlessServiceArgs = {
        namespace: "games-web",
        image: "registry.example.com/api:1.0.0",
        runtime: "jvm",
        traffic: Traffic.canary("api-v1", 10),
        env: { MODE: "a" },
        triggers: { cron: [{ schedule: "0 * * * *" }], broker: [{ filter: { type: "x" } }] },
    };
    test.each<[string, Partial<ServerlessServiceArgs>]>([
        ["the canary percent", { traffic: Traffic.canary("api-v1", 50) }],
        ["the image", { image: "registry.example.com/api:1.0.1" }],
        ["an env value", { env: { MODE: "b" } }],
        ["a scaling bound", { scaling: { maxScale: 7, minScale: 1 } }],
        ["a cron schedule", { triggers: { cron: [{ schedule: "30 * * * *" }], broker: [{ filter: { type: "x" } }] } }],
        ["the runtime preset", { runtime: "native" }],
    ])("%s", async (_, change) => {
        const before = await runProgram(() => new ServerlessService("api", base));
        const after = await runProgram(() => new ServerlessService("api", { ...base, ...change }));
        expect(inputsOf(after)).not.toBe(inputsOf(before));
        expect(identities(after)).toEqual(identities(before));
    });
});
