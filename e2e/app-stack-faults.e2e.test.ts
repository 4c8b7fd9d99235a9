/**
 * Faults on an app stack, on a world of its own (the dev platform's app namespaces and Knative Serving's
 * control plane, run by the cluster host): the engine killed while Knative makes the service ready, and
 * the cluster's API server lost midway. After what the failure's advice says, the next run converges:
 * one Knative Service, one Revision, and a refreshed preview shows no changes.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { IService } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { ServerlessService } from "serverless-platform";
import { explainFailure, explainPendingOperations } from "../scripts/failures.ts";
import { engineOutput } from "../toolchain/engine.ts";
import { deployPlatformStandIn } from "./platform-stand-in.ts";
import {
    type World,
    appliersOf,
    changesAfterRefresh,
    eventually,
    scratchProject,
    stackOf,
    startWorld,
} from "./world.ts";
import { clusterLostAdvice, killWhileItWaits, refusePodsIn, upLosingTheCluster } from "./faults.ts";

const SERVING = "/apis/serving.knative.dev/v1";

let world: World;

beforeAll(async () => {
    world = await startWorld();
    await deployPlatformStandIn(world);
}, 1_800_000);

afterAll(() => world.stop());

/** An app stack of one ServerlessService in games-web (the dev platform's max-scale-limit is 5). */
function appStack(name: string): Promise<automation.Stack> {
    const program = () => {
        new ServerlessService(name, {
            namespace: "games-web",
            image: `registry.example.com/games/${name}:1.0.0`,
            scaling: { maxScale: 3 },
        });
        return Promise.resolve({});
    };
    return stackOf(world, scratchProject(world, `${name}-app`), "dev", { program });
}

/** The Knative Services and Revisions of `name` in the cluster, by name. */
async function knativeObjects(name: string): Promise<{ services: string[]; revisions: string[] }> {
    const names = async (path: string) =>
        (await world.kube<{ items: { metadata: { name: string } }[] }>("GET", path)).items.map((o) => o.metadata.name);
    return {
        services: (await names(`${SERVING}/namespaces/games-web/services`)).filter((service) => service === name),
        revisions: await names(
            `${SERVING}/namespaces/games-web/revisions?labelSelector=serving.knative.dev%2Fservice%3D${name}`,
        ),
    };
}

/** Whether Knative's webhook Service has a ready endpoint (its program serves). */
async function knativeWebhookServes(): Promise<boolean> {
    const slices = await world.kube<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(
        "GET",
        "/apis/discovery.k8s.io/v1/namespaces/knative-serving/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dwebhook",
    );
    return slices.items.some((slice) => (slice.endpoints ?? []).some((e) => e.conditions?.ready === true));
}

/** Asserts that the stack and the cluster agree: one Service, one Revision, and nothing to change. */
async function converged(stack: automation.Stack, name: string): Promise<void> {
    const { services, revisions } = await knativeObjects(name);
    expect(services).toEqual([name]);
    expect(revisions).toHaveLength(1);
    expect(await changesAfterRefresh(stack)).toEqual([]);
}

test("killed (SIGKILL) while Knative makes its service ready, the run leaves the create in flight; `npm run up`'s advice takes the Knative Service over", async () => {
    const stack = await appStack("held");
    // The namespace refuses new pods: the revision has none, so Knative does not report the service ready and
    // the provider waits for it, with the create in flight, when the engine is killed.
    const inFlight = await killWhileItWaits(stack, "dev", {
        hold: () => refusePodsIn(world, ["games-web"]),
        waiting: "Knative makes the service's first revision",
        waits: async () => (await knativeObjects("held")).revisions.length > 0,
    });
    expect(explainPendingOperations("dev", inFlight)).toContain(
        "creating kubernetes:serving.knative.dev/v1:Service held",
    );
    expect((await stack.up(engineOutput)).summary.result).toBe("succeeded");
    await converged(stack, "held");
    // The killed run and the one that took the Service over applied it under one name, the stack's: no
    // manager of a dead run is left co-owning its fields.
    const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/held`);
    expect(appliersOf(live)).toEqual(["held-app/dev"]);
}, 600_000);

test("the API server goes away as the run creates the Knative Service: the run fails naming the cluster; once it answers again, `up --refresh` converges", async () => {
    const stack = await appStack("outage");
    const failure = await upLosingTheCluster(world, stack, { group: "serving.knative.dev", resource: "services" });
    expect(explainFailure(failure, {}, "dev")).toBe(clusterLostAdvice(world, "dev"));
    // The cluster back, its host starts Knative's programs again; the run would meet a webhook not yet serving.
    await eventually("Knative's webhook serves again", () => knativeWebhookServes(), 3);
    expect((await stack.up({ ...engineOutput, refresh: true })).summary.result).toBe("succeeded");
    await converged(stack, "outage");
}, 900_000);
