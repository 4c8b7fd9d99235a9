/**
 * App stacks' behaviour on the real engine and the simulated cluster, on a world of its own beside the examples'
 * (app-stacks.e2e.test.ts): one-off app stacks (an in-place scaling update, refusals by the component, by
 * Knative's own webhook and by the policy pack in a real preview), a rollout of Knative's control plane while
 * stacks run, and warm capacity and scale to zero by Knative's own autoscaler. The platform's part is the
 * platform stand-in (platform-stand-in.ts): the real AppNamespaces and Knative Serving's core.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { IService } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ServerlessService, Warm } from "serverless-platform";
import { clientFromEnvironment, reconcile } from "../components/shared/warm/scheduler.ts";
import { engineOutput } from "../toolchain/engine.ts";
import { SERVING, knativeMade, scaledTo } from "./app-stack-reads.ts";
import { deployPlatformStandIn } from "./platform-stand-in.ts";
import { type World, eventually, scratchProject, stackOf, startWorld, stepRecorder } from "./world.ts";

let world: World;

beforeAll(async () => {
    world = await startWorld();
    await deployPlatformStandIn(world);
}, 1_800_000);

afterAll(async () => {
    await world.stop();
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

describe("a rollout of Knative's control plane", () => {
    test("admits throughout: the webhook's old pod answers until the new pod serves its readiness probe's port", async () => {
        const deployments = "/apis/apps/v1/namespaces/knative-serving/deployments";
        const podsOf = async () =>
            (
                await world.kube<{ items: { metadata: { name: string } }[] }>(
                    "GET",
                    "/api/v1/namespaces/knative-serving/pods?labelSelector=app%3Dwebhook",
                )
            ).items.map((pod) => pod.metadata.name);
        const [before] = await podsOf();
        await world.kube(
            "PATCH",
            `${deployments}/webhook`,
            { spec: { template: { metadata: { annotations: { "serverless-platform.test/restarted": "1" } } } } },
            "application/merge-patch+json",
        );
        // Kwok makes the new pod ready at once, so the Deployment replaces the old pod before the new
        // pod's program serves: on a real cluster its readiness probe would hold the old one in place.
        await eventually("the webhook's new pod replaces the old", async () => {
            const pods = await podsOf();
            return pods.length === 1 && pods[0] !== before;
        });
        const [after] = await podsOf();
        const refused = world.kube(
            "PATCH",
            "/api/v1/namespaces/knative-serving/configmaps/config-autoscaler",
            { data: { "max-scale": "0" } },
            "application/merge-patch+json",
        );
        await expect(refused).rejects.toThrow(/max-scale = 0, must be in \[1, max-scale-limit/);
        const hostLog = () => readFileSync(join(world.cluster.dir, "cluster-host.log"), "utf8");
        await eventually("the old pod's program stops once the new one is ready", () =>
            Promise.resolve(
                hostLog().includes(
                    `knative-serving/webhook: stopped the program of pod ${String(before)} (pod ${String(after)} is ready)`,
                ),
            ),
        );
    });
});

describe("warm capacity and scale to zero, by Knative's own autoscaler", () => {
    test("inside its window the scheduler raises the live revision's min-scale and Knative scales it up; after, to zero", async () => {
        const program = () => {
            const service = new ServerlessService("evening", {
                namespace: "games-web",
                image: "registry.example.com/games/evening:1.0.0",
                scaling: {
                    minScale: 0,
                    maxScale: 3,
                    // Knative's shortest stable window: the autoscaler sees an idle revision within seconds.
                    window: "6s",
                    schedule: [Warm.between("18:00", "02:00", { timezone: "Asia/Seoul", minScale: 2 })],
                },
            });
            return Promise.resolve({ name: service.serviceName });
        };
        const stack = await stackOf(world, scratchProject(world, "evening-app"), "dev", { program });
        await stack.up(engineOutput);
        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/evening`);
        const revision = live.status?.latestReadyRevisionName ?? "";

        // The scheduler's code, as the scheduler's own service account (the Role the platform gives it).
        const { status } = await world.kube<{ status: { token: string } }>(
            "POST",
            "/api/v1/namespaces/games-web/serviceaccounts/warm-scheduler/token",
            { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 600 } },
        );
        const { client, namespace } = clientFromEnvironment({
            KUBE_API: world.cluster.api,
            KUBE_TOKEN: status.token,
            KUBE_CA_FILE: world.cluster.caFile,
            NAMESPACE: "games-web",
        });
        const pass = (at: string) => reconcile(client, namespace, new Date(at), () => Promise.resolve());

        expect((await pass("2026-11-26T12:00:00Z")).errors).toEqual([]); // 21:00 in Seoul
        expect((await knativeMade(world, "games-web", revision)).revision.metadata.annotations).toMatchObject({
            "autoscaling.knative.dev/min-scale": "2",
        });
        await scaledTo(world, "games-web", revision, 2);

        expect((await pass("2026-11-26T03:00:00Z")).errors).toEqual([]); // noon in Seoul
        // No traffic: after its stable window and the platform's grace period, Knative scales the revision to zero.
        await scaledTo(world, "games-web", revision, 0, 5);
    });
});
