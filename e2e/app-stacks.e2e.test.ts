/**
 * App stacks on the real engine and the simulated cluster: the two examples and a few one-off
 * stacks go through `up`, a no-change preview, in-place updates, the policy pack inside a real
 * preview, and `destroy`. What is asserted is read back from the API server or reported by the
 * engine itself. Knative's readiness comes from a stand-in (knative-status.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { IService } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import type { V1DeploymentList, V1Namespace, V1Secret, V1SecretList } from "@kubernetes/client-node";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { ServerlessService } from "serverless-platform";
import { engineOutput } from "../toolchain/engine.ts";
import { installKnativeCrds } from "./knative-crds.ts";
import { startKnativeAdmission } from "./knative-admission.ts";
import { startKnativeStatusStandIn } from "./knative-status.ts";
import { platformStandIn } from "./platform-stand-in.ts";
import { type World, project, scratchProject, stackOf, startWorld, stepRecorder } from "./world.ts";

/** A list of Knative objects, read for their specs. */
interface KnativeList {
    items: { spec?: unknown }[];
}

const SERVING = "/apis/serving.knative.dev/v1";
const KSVC = "kubernetes:serving.knative.dev/v1:Service";

let world: World;
let knative: { stop(): Promise<void> };
let admission: { stop(): void };
const stacks: automation.Stack[] = [];
let platform: automation.Stack;

beforeAll(async () => {
    world = await startWorld();
    await installKnativeCrds(world);
    knative = startKnativeStatusStandIn(world);
    platform = await stackOf(world, project("."), "dev", { program: () => Promise.resolve(platformStandIn()) });
    const { outputs } = await platform.up(engineOutput);
    // Knative's webhooks, with the Knative config the dev platform writes.
    admission = await startKnativeAdmission(
        world,
        outputs.knativeSettings?.value as Record<string, Record<string, string>>,
    );
}, 1_800_000);

afterAll(async () => {
    await knative.stop();
    admission.stop();
    await world.stop();
});

/** The inputs the engine recorded for one resource of a stack (what Pulumi sent to the API server). */
async function recordedInputs(stack: automation.Stack, type: string, name: string): Promise<any> {
    const { deployment } = await stack.exportStack();
    const resource = (deployment.resources as any[]).find(
        (r) => r.type === type && String(r.urn).endsWith(`::${name}`),
    );
    if (resource === undefined) throw new Error(`the stack's state has no ${type} ${name}`);
    return resource.inputs;
}

describe("hourly-stats (a cron-triggered batch that scales to zero)", () => {
    let stack: automation.Stack;

    test("up creates the Knative Service and the PingSource, as the component registered them", async () => {
        stack = await stackOf(world, project("examples/hourly-stats"), "dev");
        stacks.push(stack);
        const result = await stack.up(engineOutput);
        expect(result.summary.result).toBe("succeeded");

        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-batch/services/hourly-stats`);
        // `up` waited for Ready and read the status back: the output is the URL the cluster reports.
        expect(result.outputs.url?.value).toBe(live.status?.url);
        expect(result.outputs.url?.value).not.toBe("");
        const sent = await recordedInputs(stack, KSVC, "hourly-stats");
        // Everything the component sent, with Knative's defaults (from its own webhook) on top.
        expect(live.spec).toMatchObject(sent.spec);
        expect(live.metadata?.annotations).toMatchObject(sent.metadata.annotations ?? {});
        // What the example asked for, as Knative reads it.
        expect(live.spec?.template?.metadata?.annotations).toMatchObject({
            "autoscaling.knative.dev/min-scale": "0",
            "autoscaling.knative.dev/max-scale": "1",
            "autoscaling.knative.dev/initial-scale": "0",
        });
        expect(live.spec?.template?.spec).toMatchObject({ containerConcurrency: 1, timeoutSeconds: 600 });

        const ping = await world.kube<KnativeList>(
            "GET",
            "/apis/sources.knative.dev/v1/namespaces/games-batch/pingsources",
        );
        expect(ping.items).toHaveLength(1);
        expect(ping.items[0]?.spec).toMatchObject({
            schedule: "0 * * * *",
            timezone: "Asia/Seoul",
            data: '{"job":"hourly-stats"}',
            sink: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "hourly-stats" } },
        });
    });

    test("an immediate second preview reports no changes", async () => {
        const recorder = stepRecorder();
        await stack.preview({ ...engineOutput, expectNoChanges: true, onEvent: recorder.onEvent });
        expect(recorder.changed()).toEqual([]);
    });
});

describe("spring-api (a JVM API with a 90/10 canary and a broker trigger)", () => {
    let stack: automation.Stack;

    test("up creates the Knative Service with the split, its Secret and the Trigger", async () => {
        stack = await stackOf(world, project("examples/spring-api"), "dev", {
            secrets: { "spring-api:dbPassword": "s3cret" },
        });
        stacks.push(stack);
        const result = await stack.up(engineOutput);

        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/spring-api`);
        expect(result.outputs.url?.value).toBe(live.status?.url);
        const canary = live.status?.traffic?.find((t) => t.tag === "canary");
        expect(result.outputs.canaryUrl?.value).toBe(canary?.url);
        expect(result.outputs.canaryUrl?.value).not.toBe("");
        expect(live.spec).toMatchObject((await recordedInputs(stack, KSVC, "spring-api")).spec);
        expect(live.spec?.traffic).toEqual([
            { revisionName: "spring-api-v1", latestRevision: false, percent: 90, tag: "stable" },
            { latestRevision: true, percent: 10, tag: "canary" },
        ]);
        const secret = await world.kube<V1Secret>("GET", "/api/v1/namespaces/games-web/secrets/spring-api-env");
        expect(Buffer.from(secret.data?.SPRING_DATASOURCE_PASSWORD ?? "", "base64").toString()).toBe("s3cret");
        const env = live.spec?.template?.spec?.containers[0]?.env ?? [];
        expect(env.find((e) => e.name === "SPRING_DATASOURCE_PASSWORD")).toEqual({
            name: "SPRING_DATASOURCE_PASSWORD",
            valueFrom: { secretKeyRef: { name: "spring-api-env", key: "SPRING_DATASOURCE_PASSWORD" } },
        });
        const triggers = await world.kube<KnativeList>(
            "GET",
            "/apis/eventing.knative.dev/v1/namespaces/games-web/triggers",
        );
        expect(triggers.items.map((t) => t.spec)).toEqual([
            expect.objectContaining({
                broker: "default",
                filter: { attributes: { type: "com.example.post.created" } },
                subscriber: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: "spring-api" } },
            }),
        ]);
    });

    test("an immediate second preview reports no changes", async () => {
        const recorder = stepRecorder();
        await stack.preview({ ...engineOutput, expectNoChanges: true, onEvent: recorder.onEvent });
        expect(recorder.changed()).toEqual([]);
    });

    test("moving the canary from 10% to 20% is one in-place update of the traffic split, and up applies it", async () => {
        await stack.setConfig("spring-api:canaryPercent", { value: "20" });
        const recorder = stepRecorder();
        await stack.preview({ ...engineOutput, diff: true, onEvent: recorder.onEvent });
        const changed = recorder.changed();
        expect(changed.map((s) => [s.op, s.type, s.name])).toEqual([["update", KSVC, "spring-api"]]);
        expect(Object.keys(changed[0]!.detailedDiff).every((path) => path.startsWith("spec.traffic["))).toBe(true);
        expect(Object.values(changed[0]!.detailedDiff).every((kind) => !kind.endsWith("replace"))).toBe(true);

        await stack.up(engineOutput);
        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/spring-api`);
        expect(live.spec?.traffic?.map((t) => t.percent)).toEqual([80, 20]);
    });

    test("the policy pack runs inside a real preview: the compliant app passes prod's policies", async () => {
        const preview = await stack.preview({
            ...engineOutput,
            policyPacks: [`${process.cwd()}/policy`],
            policyPackConfigs: [`${process.cwd()}/policy/config/prod.json`],
        });
        expect(preview.stdout).toMatch(/Policies:/);
        expect(preview.stdout).not.toMatch(/mandatory/);
    });
});

describe("one-off app stacks", () => {
    test("changing one scaling value changes only its annotation, in place", async () => {
        // The dev platform's max-scale-limit is 5: Knative's webhook refuses more.
        let maxScale = 3;
        const program = () => {
            const service = new ServerlessService("scaled", {
                namespace: "games-web",
                image: "registry.example.com/games/scaled:1.0.0",
                scaling: { maxScale },
            });
            return Promise.resolve({ name: service.serviceName });
        };
        const stack = await stackOf(world, scratchProject(world, "scaled-app"), "dev", { program });
        stacks.push(stack);
        await stack.up(engineOutput);

        maxScale = 4;
        const recorder = stepRecorder();
        await stack.preview({ ...engineOutput, diff: true, onEvent: recorder.onEvent });
        const changed = recorder.changed();
        expect(changed.map((s) => [s.op, s.name])).toEqual([["update", "scaled"]]);
        expect(changed[0]!.detailedDiff).toEqual({
            'spec.template.metadata.annotations["autoscaling.knative.dev/max-scale"]': "update",
        });
        await stack.up(engineOutput);
        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/scaled`);
        expect(live.spec?.template?.metadata?.annotations?.["autoscaling.knative.dev/max-scale"]).toBe("4");
    });

    test("a bad value known only at deployment fails the preview with the same message, and no stack trace", async () => {
        const program = () => {
            new ServerlessService("late", {
                namespace: "games-web",
                image: pulumi.output("registry.example.com/games/late:latest"),
            });
            return Promise.resolve(undefined);
        };
        const stack = await stackOf(world, scratchProject(world, "late-app"), "dev", { program });
        const failure = await stack.preview(engineOutput).then(
            () => "",
            (error: unknown) => String(error),
        );
        expect(failure).toContain(
            'ServerlessService "late": image must not use the moving tag "latest"; pin a version tag or a digest (got "registry.example.com/games/late:latest")',
        );
        expect(failure).not.toMatch(/\bat \S+ \(\/.*:\d+:\d+\)/);
    });

    test("what Knative refuses is refused on the simulated cluster too, by Knative's own webhook code", async () => {
        const program = () => {
            new k8s.apiextensions.CustomResource("by-hand", {
                apiVersion: "serving.knative.dev/v1",
                kind: "Service",
                metadata: { name: "by-hand", namespace: "games-web" },
                spec: {
                    template: {
                        metadata: { annotations: { "autoscaling.knative.dev/min-scale": "-1" } },
                        spec: { containers: [{ image: "registry.example.com/games/by-hand:1.0.0" }] },
                    },
                },
            });
            return Promise.resolve(undefined);
        };
        const stack = await stackOf(world, scratchProject(world, "by-hand-app"), "dev", { program });
        const failure = await stack.up(engineOutput).then(
            () => "",
            (error: unknown) => String(error),
        );
        expect(failure).toMatch(/admission webhook "validation\.webhook\.serving\.knative\.dev" denied the request/);
        expect(failure).toMatch(/min-scale/);
        await stack.destroy(engineOutput);
    });

    test("the policy pack refuses a violating app stack in a real preview", async () => {
        const program = () => {
            new ServerlessService("writable", {
                namespace: "games-web",
                image: "registry.example.com/games/writable:1.0.0",
                // Within the dev platform's max-scale-limit (5): only the policy has something to say.
                scaling: { maxScale: 3 },
                readOnlyRootFilesystem: false,
            });
            return Promise.resolve(undefined);
        };
        const stack = await stackOf(world, scratchProject(world, "violating-app"), "dev", { program });
        const preview = stack.preview({
            ...engineOutput,
            policyPacks: [`${process.cwd()}/policy`],
            policyPackConfigs: [`${process.cwd()}/policy/config/prod.json`],
        });
        await expect(preview).rejects.toThrow(/read-only-root-filesystem/);
        await expect(preview).rejects.not.toThrow(/admission webhook/);
        await expect(world.kube("GET", `${SERVING}/namespaces/games-web/services/writable`)).rejects.toThrow(/404/);
    });
});

describe("destroy", () => {
    test("leaves nothing behind in the app namespaces; the platform lets go of the namespaces without deleting them", async () => {
        for (const stack of stacks.reverse()) await stack.destroy(engineOutput);
        for (const namespace of ["games-web", "games-batch"]) {
            for (const path of [
                `${SERVING}/namespaces/${namespace}/services`,
                `/apis/sources.knative.dev/v1/namespaces/${namespace}/pingsources`,
                `/apis/eventing.knative.dev/v1/namespaces/${namespace}/triggers`,
            ]) {
                expect((await world.kube<KnativeList>("GET", path)).items).toEqual([]);
            }
            const secrets = await world.kube<V1SecretList>("GET", `/api/v1/namespaces/${namespace}/secrets`);
            expect(secrets.items.map((s) => s.metadata?.name)).toEqual([]);
        }
        await platform.destroy(engineOutput);
        // App namespaces are retained on delete: what the platform put in them is gone, the namespace stays.
        const namespace = await world.kube<V1Namespace>("GET", "/api/v1/namespaces/games-web");
        expect(namespace.status?.phase).toBe("Active");
        const deployments = await world.kube<V1DeploymentList>("GET", "/apis/apps/v1/namespaces/games-web/deployments");
        expect(deployments.items).toEqual([]);
        const { deployment } = await platform.exportStack();
        expect(deployment.resources ?? []).toEqual([]);
    });
});
