/**
 * The prod platform (see platform.ts for what every environment proves): the Knative upgrade,
 * stopped by Ctrl-C and killed mid-way, then resumed; the protected logs through replaces and a
 * destroy: the data and the app namespaces stay the same objects throughout.
 */
import { test, expect } from "vitest";
import type { V1Namespace, V1ObjectMeta, V1StatefulSet } from "@kubernetes/client-node";
import { explainFailure, explainPendingOperations } from "../scripts/failures.ts";
import { engineOutput, pendingOperations, saveEveryStep } from "../toolchain/engine.ts";
import { appliedObjects, described, stillInCluster } from "./leftovers.ts";
import { DEFAULT_KNATIVE, KNATIVE_RELEASES } from "../components/platform/versions.ts";
import { LOGS_ELASTICSEARCH, dataHeld } from "./platform-reads.ts";
import { PREVIOUS_KNATIVE, describePlatform, stackSection } from "./platform.ts";
import { changesAfterRefresh, stepRecorder } from "./world.ts";
import { aPodWaitsForANode, holdNewPods, killWhileItWaits } from "./faults.ts";

const logs = stackSection("prod", "monitoring").logs;
const appNamespaces = Object.keys(stackSection("prod", "namespaces"));

/**
 * Prod goes up at the Knative release before the pinned one and is upgraded in place (a run stopped
 * by Ctrl-C, then one killed, then resumed), so one world proves a first install (1.22), the upgrade
 * path (1.23) on the real manifests and that an interrupted upgrade loses no data.
 */
const FROM = KNATIVE_RELEASES[PREVIOUS_KNATIVE];
const TO = KNATIVE_RELEASES[DEFAULT_KNATIVE];
const BEFORE_UPGRADE = {
    "serverless-platform:knative.version": PREVIOUS_KNATIVE,
    // net-istio 1.22 was tested against Istio 1.29, which reached its end of life: the platform's
    // 1.30 is accepted for the step before the upgrade, as a stack still on 1.22 would.
    "serverless-platform:compatibility.accept[0]": "net-istio-istio",
};
describePlatform("prod", {
    configPaths: BEFORE_UPGRADE,
    own: (platform) => {
        test(`Knative ${PREVIOUS_KNATIVE} → ${DEFAULT_KNATIVE} previews as in-place updates, replacing and deleting nothing`, async () => {
            const { world, stack } = platform;
            const installed = await world.kube<V1Namespace>("GET", "/api/v1/namespaces/knative-serving");
            expect(installed.metadata?.labels?.["app.kubernetes.io/version"]).toBe(FROM.serving);
            // Back to the stack's own config: the pinned release, no rule accepted.
            await stack.removeConfig("serverless-platform:compatibility");
            await stack.removeConfig("serverless-platform:knative.version", true);
            const recorder = stepRecorder();
            await stack.preview({ onEvent: recorder.onEvent });
            const changed = recorder.changed();
            expect(changed.filter((step) => step.op !== "update").map((s) => `${s.op} ${s.name}`)).toEqual([]);
            expect(changed.map((step) => step.name)).toContain("knative-serving-core:knative-serving");
        }, 600_000);

        test("the upgrade stopped by Ctrl-C, then killed with an update in flight, resumes as `npm run up` advises; the logs' data and the app namespaces stay the same objects", async () => {
            const { world, stack } = platform;
            const held = await dataHeld(world, appNamespaces);
            expect(Object.keys(held)).toContain(
                "PersistentVolumeClaim monitoring/elasticsearch-data-logs-es-default-0",
            );
            // Users' runs save the state after every step: what an interrupted run leaves is what it knew.
            saveEveryStep(stack, true);

            // Ctrl-C (the Automation API sends the CLI SIGINT, as a terminal does) once the upgrade updates its first object.
            const ctrlC = new AbortController();
            const stopped: unknown = await stack
                .up({
                    ...engineOutput,
                    signal: ctrlC.signal,
                    onEvent: (event) => {
                        if (event.resourcePreEvent?.metadata.op === "update") ctrlC.abort();
                    },
                })
                .then(
                    () => undefined,
                    (error: unknown) => error,
                );
            expect(explainFailure(stopped, {}, "prod")).toMatch(/^The run of stack prod was stopped \(Ctrl-C\)/);
            expect(await pendingOperations(stack)).toEqual([]);

            // Killed while an update is in flight: the node refuses new pods (a taint), so the provider waits on the
            // rollout of the first of Knative's workloads the upgrade changes (a Deployment or, in Eventing, the
            // request-reply StatefulSet: which comes first is the engine's order), and the engine is killed then.
            const knativeWaits = () => aPodWaitsForANode(world, ["knative-serving", "knative-eventing"]);
            expect(await knativeWaits()).toBe(false);
            const inFlight = await killWhileItWaits(stack, "prod", {
                hold: () => holdNewPods(world),
                waiting: "a pod of the upgraded Knative waits for a node",
                waits: knativeWaits,
            });
            expect(explainPendingOperations("prod", inFlight)).toMatch(
                /updating kubernetes:apps\/v1:(Deployment|StatefulSet) knative-(serving|eventing)-core:/,
            );
            // The cause fixed and the operations in flight dropped, as `npm run up -- prod --refresh` does: the upgrade.
            const resumed = await stack.up(engineOutput);
            expect(resumed.summary.result).toBe("succeeded");
            expect(resumed.outputs.versions?.value).toMatchObject({
                knativeServing: TO.serving,
                knativeEventing: TO.eventing,
            });
            const upgraded = await world.kube<V1Namespace>("GET", "/api/v1/namespaces/knative-serving");
            expect(upgraded.metadata?.labels?.["app.kubernetes.io/version"]).toBe(TO.serving);
            expect(await changesAfterRefresh(stack)).toEqual([]);
            expect(await dataHeld(world, appNamespaces)).toEqual(held);
        }, 1_800_000);

        test("`up --replace` of what holds the logs is refused (the monitoring namespace, the Elasticsearch); of ECK's CRDs and the app namespaces, it re-applies them and deletes nothing", async () => {
            const { world, stack } = platform;
            const held = await dataHeld(world, appNamespaces);
            const crd =
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/elasticsearches.elasticsearch.k8s.elastic.co";
            const crdUid = (await world.kube<{ metadata: V1ObjectMeta }>("GET", crd)).metadata.uid;
            const { deployment } = await stack.exportStack();
            const urn = (name: string) =>
                (deployment.resources as { urn: string }[]).find((r) => r.urn.endsWith(`::${name}`))?.urn ?? name;

            // The Kubernetes provider replaces a named object by applying it again, then deleting it
            // (pulumi-kubernetes#4522): the namespace would go, with the data in it.
            await expect(
                stack.up({
                    ...engineOutput,
                    replace: [urn("monitoring-namespace"), urn("monitoring-logs-elasticsearch")],
                }),
            ).rejects.toThrow(
                /unable to replace resource "\S+::monitoring-namespace"\s+as it is currently marked for protection/,
            );
            const replaced = await stack.up({
                ...engineOutput,
                replace: [urn("monitoring-logs-eck-crds"), ...appNamespaces.map(urn)],
            });
            expect(replaced.summary.resourceChanges).toMatchObject({ replace: 1 + appNamespaces.length });
            expect((await world.kube<{ metadata: V1ObjectMeta }>("GET", crd)).metadata.uid).toBe(crdUid);
            expect(await dataHeld(world, appNamespaces)).toEqual(held);
        }, 1_200_000);

        test("destroy stops at the protected Elasticsearch: it and what it needs stay, in the cluster and the state, and nothing else", async () => {
            const { world, stack } = platform;
            const applied = await appliedObjects(stack);
            // The engine deletes what does not hold data, then fails on the protected resource.
            await expect(stack.destroy(engineOutput)).rejects.toThrow(
                /Elasticsearch::monitoring-logs-elasticsearch" cannot be deleted/,
            );
            const elasticsearch = await world.kube<{ spec: { nodeSets: { count: number }[] } }>(
                "GET",
                LOGS_ELASTICSEARCH,
            );
            expect(elasticsearch.spec.nodeSets[0]?.count).toBe(logs.nodes);
            const operator = await world.kube<V1StatefulSet>(
                "GET",
                "/apis/apps/v1/namespaces/elastic-system/statefulsets/elastic-operator",
            );
            expect(operator.metadata?.name).toBe("elastic-operator");

            // The state keeps the log data and what it needs: its namespace, ECK's operator and CRDs, the shipper's
            // user and role. None of the mesh, Knative or the rest of monitoring (docs/platform-team.md, Monitoring, lists the same).
            const { deployment } = await stack.exportStack();
            const kept = (deployment.resources as { urn: string; custom?: boolean; type: string }[])
                .filter((r) => r.custom === true && !r.type.startsWith("pulumi:providers:"))
                .map((r) => r.urn.slice(r.urn.lastIndexOf("::") + 2));
            const eckObjects = kept.filter((name) => name.startsWith("monitoring-logs-eck-operator:"));
            expect(kept.filter((name) => !eckObjects.includes(name)).sort()).toEqual([
                "monitoring-logs-eck-crds",
                "monitoring-logs-elastic-system",
                "monitoring-logs-elasticsearch",
                "monitoring-logs-roles",
                "monitoring-logs-shipper",
                "monitoring-namespace",
            ]);
            // In the cluster: what the state keeps, and what the stack lets go of on purpose (the app namespaces,
            // the CRDs, ECK's operator with the data it serves), nothing else it applied.
            const inState = new Set((await appliedObjects(stack)).map(described));
            const left = await stillInCluster(world, applied);
            expect(left.filter((object) => !object.retained && !inState.has(described(object))).map(described)).toEqual(
                [],
            );
            expect(left.map(described)).toEqual(expect.arrayContaining([...inState]));
            expect(
                left
                    .filter((object) => object.kind === "Namespace")
                    .map((ns) => ns.name)
                    .sort(),
            ).toEqual([...appNamespaces, "elastic-system", "monitoring"].sort());
        }, 600_000);
    },
});
