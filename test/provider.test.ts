/**
 * ServerlessService as a Pulumi component package (provider/): the schema Pulumi's own component
 * analyzer generates from the package's TypeScript types, and the package's component under mocks,
 * which must make what the TypeScript component makes and refuse what it refuses, in its words.
 */
import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, test } from "vitest";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/index.js";
import {
    ServerlessService as TypedServerlessService,
    renderServerlessService,
    type BrokerTriggerArgs,
    type KafkaTriggerArgs,
    type ScalingArgs,
    type ServerlessServiceArgs as TypedArgs,
    type TrafficTarget as TypedTrafficTarget,
    type TriggersArgs,
    type WarmWindow as TypedWarmWindow,
} from "../components/index.ts";
import type {
    BrokerTrigger,
    KafkaTrigger,
    Scaling,
    ServerlessServiceArgs,
    TrafficTarget,
    Triggers,
    WarmWindow,
} from "../provider/args.ts";
import { ServerlessService } from "../provider/component.ts";
import {
    ARGUMENTS_DOC,
    ARGUMENTS_MARKERS,
    PROVIDER_ARGS,
    argumentsTable,
    providerArgs,
} from "../scripts/component-args.ts";
import { KSVC, PING, SECRET, find, ofType, runProgram } from "./harness.ts";

const IMAGE = "registry.example.com/api@sha256:" + "b".repeat(64);

interface Property {
    description?: string;
    type?: string;
    $ref?: string;
}
interface Schema {
    name: string;
    resources: Record<
        string,
        { inputProperties: Record<string, Property>; requiredInputs?: string[]; properties: Record<string, Property> }
    >;
    types: Record<string, { properties?: Record<string, Property> }>;
}

async function packageSchema(): Promise<Schema> {
    const provider = new ComponentProvider({
        components: [ServerlessService],
        name: "serverless-platform",
        dirname: new URL("../provider", import.meta.url).pathname,
    });
    return JSON.parse(await provider.getSchema()) as Schema;
}

describe("the component package's schema, as Pulumi's analyzer reads it from the TypeScript types", () => {
    // The analyzer type-checks the package and everything it imports: seconds on an idle machine.
    test("ServerlessService takes namespace and image, documents every argument and returns the TypeScript component's outputs", async () => {
        const schema = await packageSchema();
        expect(schema.name).toBe("serverless-platform");
        const component = schema.resources["serverless-platform:index:ServerlessService"]!;
        expect(component.requiredInputs?.sort()).toEqual(["image", "namespace"]);
        const undocumented = Object.entries(component.inputProperties)
            .filter(([, property]) => !property.description && !property.$ref)
            .map(([name]) => name);
        expect(undocumented).toEqual([]);
        expect(Object.keys(component.properties).sort()).toEqual(
            ["latestReadyRevisionName", "namespace", "serviceName", "tagUrls", "url"].sort(),
        );
        // Each string choice is documented with what it allows, as the component checks it.
        expect(component.inputProperties.protocol?.description).toMatch(/"http1".*"h2c"/);
        expect(schema.types["serverless-platform:index:Scaling"]?.properties?.metric?.description).toMatch(
            /"concurrency", "rps", "cpu", "memory"/,
        );
    }, 300_000);
});

describe("the package's arguments and the app teams' table are generated from the TypeScript component's Args", () => {
    test("provider/args.ts is what scripts/component-args.ts writes (run it with --write after changing components/app/args.ts)", async () => {
        expect(readFileSync(PROVIDER_ARGS, "utf8")).toBe(await providerArgs());
    });

    test("docs/app-teams.md's arguments table likewise", async () => {
        const doc = readFileSync(ARGUMENTS_DOC, "utf8");
        const table = doc.slice(
            doc.indexOf(ARGUMENTS_MARKERS.start) + ARGUMENTS_MARKERS.start.length,
            doc.indexOf(ARGUMENTS_MARKERS.end),
        );
        expect(table.trim()).toBe(await argumentsTable());
    });
});

test("every argument of the TypeScript component has its counterpart in the package, at every depth", () => {
    // Checked by the type checker (npm run typecheck): a new TypeScript argument must be added to the package.
    expectTypeOf<Exclude<keyof TypedArgs, keyof ServerlessServiceArgs>>().toEqualTypeOf<never>();
    expectTypeOf<Exclude<keyof ScalingArgs, keyof Scaling>>().toEqualTypeOf<never>();
    expectTypeOf<Exclude<keyof TypedWarmWindow, keyof WarmWindow>>().toEqualTypeOf<never>();
    expectTypeOf<Exclude<keyof TypedTrafficTarget, keyof TrafficTarget>>().toEqualTypeOf<never>();
    expectTypeOf<Exclude<keyof TriggersArgs, keyof Triggers>>().toEqualTypeOf<never>();
    expectTypeOf<Exclude<keyof KafkaTriggerArgs, keyof KafkaTrigger>>().toEqualTypeOf<never>();
    expectTypeOf<Exclude<keyof BrokerTriggerArgs, keyof BrokerTrigger>>().toEqualTypeOf<never>();
});

describe("the package's component under mocks", () => {
    const args: ServerlessServiceArgs = {
        namespace: "games-web",
        image: IMAGE,
        runtime: "jvm",
        protocol: "h2c",
        env: { GREETING: "hello" },
        envFrom: { DB_URL: { secretKeyRef: { name: "db", key: "url" } } },
        secretEnv: { API_KEY: "k3y" },
        scaling: { minScale: 1, maxScale: 3, metric: "rps", target: 20 },
        disableStartupProbe: true,
        triggers: {
            cron: [{ schedule: "*/15 * * * *" }],
            broker: [{ filter: { type: "order.created" }, delivery: { retry: 3, deadLetterService: "dead-letters" } }],
        },
    };

    test("makes exactly what the TypeScript component makes from the same arguments, under it", async () => {
        const viaPackage = await runProgram(() => new ServerlessService("api", args));
        const typed: TypedArgs = {
            namespace: "games-web",
            image: IMAGE,
            runtime: "jvm",
            protocol: "h2c",
            env: { GREETING: "hello", DB_URL: { secretKeyRef: { name: "db", key: "url" } } },
            secretEnv: { API_KEY: "k3y" },
            scaling: { minScale: 1, maxScale: 3, metric: "rps", target: 20 },
            startupProbe: false,
            triggers: {
                cron: [{ schedule: "*/15 * * * *" }],
                broker: [
                    {
                        filter: { type: "order.created" },
                        delivery: { retry: 3, deadLetterSink: { service: "dead-letters" } },
                    },
                ],
            },
        };
        const direct = await runProgram(() => new TypedServerlessService("api", typed));
        const children = (registered: typeof direct) =>
            registered
                .filter((r) => !r.type.startsWith("serverless-platform:"))
                .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs }));
        expect(children(viaPackage)).toEqual(children(direct));
        expect(ofType(viaPackage, KSVC)).toHaveLength(1);
        expect(ofType(viaPackage, SECRET)).toHaveLength(1);
        expect(ofType(viaPackage, PING)).toHaveLength(1);
        expect(find(viaPackage, "serverless-platform:app:ServerlessService", "api").parentName).toBe("api");
    });

    test("a bad string choice is refused before anything registers, in the TypeScript component's words", () => {
        const bad = { namespace: "games-web", image: IMAGE, visibility: "internal", scaling: { metric: "latency" } };
        const typescript = (() => {
            try {
                renderServerlessService("api", bad as TypedArgs);
                return "";
            } catch (error) {
                return (error as Error).message;
            }
        })();
        expect(typescript).toMatch(/visibility must be one of "public", "cluster-local"/);
        expect(typescript).toMatch(/scaling\.metric must be one of/);
        expect(() => new ServerlessService("api", bad)).toThrow(typescript);
    });

    test("the shapes only the package has are checked: a variable in env and envFrom, a probe set and disabled, two dead-letter sinks", () => {
        expect(
            () =>
                new ServerlessService("api", {
                    namespace: "games-web",
                    image: IMAGE,
                    env: { DB_URL: "x" },
                    envFrom: { DB_URL: { configMapKeyRef: { name: "db", key: "url" } } },
                    startupProbe: { periodSeconds: 1 },
                    disableStartupProbe: true,
                    triggers: { broker: [{ delivery: { deadLetterSink: "http://x", deadLetterService: "y" } }] },
                }),
        ).toThrow(
            [
                'ServerlessService "api": envFrom.DB_URL is also set in env: set each variable in one of them (got {"configMapKeyRef":{"name":"db","key":"url"}})',
                'ServerlessService "api": disableStartupProbe cannot be true while startupProbe is set (got true)',
                'ServerlessService "api": triggers.broker[0].delivery.deadLetterService cannot be set together with deadLetterSink (got "y")',
            ].join("\n"),
        );
    });
});
