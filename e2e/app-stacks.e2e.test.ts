/**
 * App stacks on the real engine and the simulated cluster: the examples go through `up`, a no-change
 * preview, in-place updates, the policy pack inside a real preview, and `destroy` (one-off stacks, a
 * control-plane rollout and warm capacity are app-stack-behaviour.e2e.test.ts's, on a world of their own). What is asserted is read back from the API server or reported by the
 * engine itself, and what Knative Serving's own control plane (its controller, autoscaler, activator
 * and webhook, run by the cluster host) made of it: Revisions, their Deployments and PodAutoscalers,
 * Routes, readiness. The one stand-in on that path marks Knative's networking Ingresses ready for
 * net-istio (toolchain/host/stand-ins.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { IService } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import type {
    V1DeploymentList,
    V1Namespace,
    V1NetworkPolicyList,
    V1ObjectMeta,
    V1Secret,
    V1SecretList,
} from "@kubernetes/client-node";
import { CLOUD_METADATA } from "../components/platform/cluster.ts";
import { systemNamespaces } from "../components/shared/system-namespaces.ts";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { renderServerlessService } from "serverless-platform";
import { engineOutput } from "../toolchain/engine.ts";
import { deployPlatformStandIn, upPlatformStandIn } from "./platform-stand-in.ts";
import {
    type KnativeList,
    SERVING,
    appTeamsKnativeObjects,
    knativeMade,
    recordedInputs,
    scaledTo,
} from "./app-stack-reads.ts";
import { whereReadable } from "./secret-leaks.ts";
import {
    type World,
    appliersOf,
    asPreviewIdentity,
    eventually,
    project,
    serviceAccountMay,
    stackOf,
    startWorld,
    stepRecorder,
} from "./world.ts";
import { previewAccount } from "../components/platform/preview-identity.ts";

const KSVC = "kubernetes:serving.knative.dev/v1:Service";

let world: World;
const stacks: automation.Stack[] = [];
/** The example apps' secret config (long enough not to occur by chance in a certificate's base64). */
const APP_SECRETS = { springDbPassword: "spring-db-password-4b7e21c9", yamlApiKey: "yaml-api-key-91fd03a6" };
/** What the engine printed for the example apps' runs (to look for their secrets in). */
let printed = "";
let platform: automation.Stack;

beforeAll(async () => {
    world = await startWorld();
    platform = await deployPlatformStandIn(world);
}, 1_800_000);

afterAll(async () => {
    await world.stop();
});

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
        // The stack applied it under its own name (its project and stack), not a random one per object.
        expect(appliersOf(live)).toEqual(["hourly-stats/dev"]);
        // The status is Knative's controller's alone (its client's field manager is its command's name).
        const statusWriters = (live.metadata?.managedFields ?? []).filter((f) => f.subresource === "status");
        expect(statusWriters.map((f) => f.manager)).toEqual(["controller"]);
        // Knative's controller made the revision and reported it ready; its autoscaler holds no pod for it.
        const revision = live.status?.latestReadyRevisionName ?? "";
        expect(revision).toMatch(/^hourly-stats-/);
        const made = await knativeMade(world, "games-batch", revision);
        expect(made.revision.metadata.annotations).toMatchObject({
            "autoscaling.knative.dev/min-scale": "0",
            "autoscaling.knative.dev/initial-scale": "0",
        });
        expect(made.podAutoscaler.spec.containerConcurrency).toBe(1);
        // The app's container and the queue-proxy Knative adds beside it.
        expect(made.deployment.spec?.template.spec?.containers.map((c) => c.name)).toEqual(["app", "queue-proxy"]);
        await scaledTo(world, "games-batch", revision, 0);

        const ping = await world.kube<KnativeList>(
            "GET",
            "/apis/sources.knative.dev/v1/namespaces/games-batch/pingsources",
        );
        expect(ping.items).toHaveLength(1);
        expect(appliersOf(ping.items[0] ?? {})).toEqual(["hourly-stats/dev"]);
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

describe("spring-api (a JVM API released as a 90/10 canary, with a broker trigger)", () => {
    let stack: automation.Stack;

    test("the first release takes all traffic, with one warm pod, once Knative reports it ready", async () => {
        stack = await stackOf(world, project("examples/spring-api"), "dev", {
            secrets: { "spring-api:dbPassword": APP_SECRETS.springDbPassword },
        });
        stacks.push(stack);
        const result = await stack.up(engineOutput);
        printed += result.stdout + result.stderr;

        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/spring-api`);
        expect(live.status?.latestReadyRevisionName).toBe("spring-api-v1");
        expect(result.outputs.url?.value).toBe(live.status?.url);
        expect(live.status?.traffic).toEqual([{ revisionName: "spring-api-v1", latestRevision: true, percent: 100 }]);
        const made = await knativeMade(world, "games-web", "spring-api-v1");
        expect(made.revision.metadata.annotations).toMatchObject({
            "autoscaling.knative.dev/min-scale": "1",
            "autoscaling.knative.dev/max-scale": "5",
            "autoscaling.knative.dev/target": "50",
        });
        expect(made.podAutoscaler.metadata.annotations).toMatchObject({
            "autoscaling.knative.dev/min-scale": "1",
            "autoscaling.knative.dev/max-scale": "5",
            "autoscaling.knative.dev/target": "50",
        });
        await scaledTo(world, "games-web", "spring-api-v1", 1);
    });

    test("the next release is a canary: Knative routes 10% to it and gives it a tag URL", async () => {
        await stack.setConfig("spring-api:release", { value: "v2" });
        await stack.setConfig("spring-api:stableRelease", { value: "v1" });
        const result = await stack.up(engineOutput);
        printed += result.stdout + result.stderr;

        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/spring-api`);
        expect(result.outputs.url?.value).toBe(live.status?.url);
        const canary = live.status?.traffic?.find((t) => t.tag === "canary");
        expect(result.outputs.canaryUrl?.value).toBe(canary?.url);
        expect(result.outputs.canaryUrl?.value).toMatch(/^http:\/\/canary-spring-api\.games-web\./);
        expect(live.spec).toMatchObject((await recordedInputs(stack, KSVC, "spring-api")).spec);
        expect(live.spec?.traffic).toEqual([
            { revisionName: "spring-api-v1", latestRevision: false, percent: 90, tag: "stable" },
            { latestRevision: true, percent: 10, tag: "canary" },
        ]);
        // The split as Knative's Route serves it: both revisions, each tag with its URL.
        const route = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/routes/spring-api`);
        expect(route.status?.traffic?.map((t) => [t.revisionName, t.percent, t.tag])).toEqual([
            ["spring-api-v1", 90, "stable"],
            ["spring-api-v2", 10, "canary"],
        ]);
        expect(route.status?.traffic?.find((t) => t.tag === "canary")?.url).toBe(canary?.url);
        await scaledTo(world, "games-web", "spring-api-v2", 1);
        const secret = await world.kube<V1Secret>("GET", "/api/v1/namespaces/games-web/secrets/spring-api-env");
        expect(Buffer.from(secret.data?.SPRING_DATASOURCE_PASSWORD ?? "", "base64").toString()).toBe(
            APP_SECRETS.springDbPassword,
        );
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

    test("as games-web's preview identity, a change previews with Knative's own dry run, and its `up` is refused by the API server, changing nothing", async () => {
        await stack.setConfig("spring-api:canaryPercent", { value: "30" });
        await asPreviewIdentity(world, stack, previewAccount("games-web"), async () => {
            const recorder = stepRecorder();
            await stack.preview({ onEvent: recorder.onEvent });
            expect(recorder.changed().map((s) => `${s.op} ${s.type}`)).toEqual([
                "update pulumi:providers:kubernetes",
                `update ${KSVC}`,
            ]);
            const up = await stack.up().then(
                () => "succeeded",
                (error: unknown) => String(error),
            );
            expect(up).toContain("system:serviceaccount:games-web:pulumi-preview is a preview identity");
        }).finally(() => stack.setConfig("spring-api:canaryPercent", { value: "20" }));
        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/spring-api`);
        expect(live.spec?.traffic?.map((t) => t.percent)).toEqual([80, 20]);
        // The refused run stored the preview identity's kubeconfig as its provider's, which `destroy` and `refresh`
        // would use, and the refused update's inputs: the deploy identity's next `up` puts both back, in place.
        const restored = stepRecorder();
        await stack.up({ onEvent: restored.onEvent });
        expect(restored.changed().map((s) => `${s.op} ${s.type}`)).toEqual([
            "update pulumi:providers:kubernetes",
            `update ${KSVC}`,
        ]);
        const after = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/spring-api`);
        expect(after.spec?.traffic?.map((t) => t.percent)).toEqual([80, 20]);
        // Its reads stop at its namespace: another's Secrets are not its to read.
        expect(
            await serviceAccountMay(world, previewAccount("games-web"), {
                namespace: "games-batch",
                verb: "get",
                resource: "secrets",
            }),
        ).toBe(false);
        expect(
            await serviceAccountMay(world, previewAccount("games-web"), {
                namespace: "games-web",
                verb: "get",
                resource: "secrets",
            }),
        ).toBe(true);
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

describe("yaml-api (Pulumi YAML, through the ServerlessService component package)", () => {
    let stack: automation.Stack;
    const PACKAGE_COMPONENT = "serverless-platform:index:ServerlessService";

    test("up through the YAML language host and the component package: Knative makes what the TypeScript component makes", async () => {
        stack = await stackOf(world, project("examples/yaml-api"), "dev", {
            secrets: { "yaml-api:apiKey": APP_SECRETS.yamlApiKey },
        });
        stacks.push(stack);
        const result = await stack.up(engineOutput);
        printed += result.stdout + result.stderr;
        expect(result.summary.result).toBe("succeeded");

        const live = await world.kube<IService>("GET", `${SERVING}/namespaces/games-web/services/yaml-api`);
        expect(result.outputs.url?.value).toBe(live.status?.url);
        expect(result.outputs.revision?.value).toBe("yaml-api-v1");
        expect(live.status?.latestReadyRevisionName).toBe("yaml-api-v1");
        expect(live.spec).toMatchObject((await recordedInputs(stack, KSVC, "yaml-api")).spec);
        // The package's component holds the TypeScript component, which holds what it always makes.
        const { deployment } = await stack.exportStack();
        const byUrn = new Map((deployment.resources as any[]).map((r) => [r.urn as string, r]));
        const typeOf = (urn: string | undefined) => (urn === undefined ? undefined : byUrn.get(urn)?.type);
        const made = (deployment.resources as any[])
            .filter((r) => typeOf(r.parent) === "serverless-platform:app:ServerlessService")
            .map((r) => r.type as string)
            .sort();
        expect(made).toEqual(["kubernetes:core/v1:Secret", KSVC, "kubernetes:sources.knative.dev/v1:PingSource"]);
        const component = (deployment.resources as any[]).find(
            (r) => r.type === "serverless-platform:app:ServerlessService",
        );
        expect(typeOf(component.parent)).toBe(PACKAGE_COMPONENT);

        const revision = await knativeMade(world, "games-web", "yaml-api-v1");
        expect(revision.revision.metadata.annotations).toMatchObject({
            "autoscaling.knative.dev/min-scale": "1",
            "autoscaling.knative.dev/max-scale": "3",
        });
        expect(revision.deployment.spec?.template.spec?.containers.map((c) => c.name)).toEqual(["app", "queue-proxy"]);
        await scaledTo(world, "games-web", "yaml-api-v1", 1);
        const env = live.spec?.template?.spec?.containers[0]?.env ?? [];
        expect(env).toEqual(
            expect.arrayContaining([
                { name: "GREETING", value: "hello" },
                { name: "API_KEY", valueFrom: { secretKeyRef: { name: "yaml-api-env", key: "API_KEY" } } },
            ]),
        );
        const secret = await world.kube<V1Secret>("GET", "/api/v1/namespaces/games-web/secrets/yaml-api-env");
        expect(Buffer.from(secret.data?.API_KEY ?? "", "base64").toString()).toBe(APP_SECRETS.yamlApiKey);
        const ping = await world.kube<KnativeList>(
            "GET",
            "/apis/sources.knative.dev/v1/namespaces/games-web/pingsources",
        );
        expect(ping.items.map((p) => p.spec)).toEqual([
            expect.objectContaining({ schedule: "*/15 * * * *", timezone: "Asia/Seoul", data: '{"job":"refresh"}' }),
        ]);
    });

    test("an immediate second preview reports no changes", async () => {
        const recorder = stepRecorder();
        await stack.preview({ ...engineOutput, expectNoChanges: true, onEvent: recorder.onEvent });
        expect(recorder.changed()).toEqual([]);
    });

    test("a bad argument fails the preview with the TypeScript component's own message, before anything changes", async () => {
        await stack.setConfig("yaml-api:release", { value: "V2" });
        const failure = await stack.preview(engineOutput).then(
            () => "",
            (error: unknown) => String(error),
        );
        await stack.setConfig("yaml-api:release", { value: "v1" });
        const typescript = (() => {
            try {
                renderServerlessService("yaml-api", {
                    namespace: "games-web",
                    image: "registry.example.com/games/yaml-api:1.0.0",
                    revisionName: "yaml-api-V2",
                });
                return "";
            } catch (error) {
                return (error as Error).message;
            }
        })();
        expect(typescript).toMatch(/revisionName/);
        expect(failure).toContain(typescript);
    });
});

describe("the app namespaces' network policies, as the API server stores them", () => {
    test("egress goes anywhere but the cloud's instance metadata endpoint; ingress comes from the namespace and the platform's callers only", async () => {
        for (const namespace of ["games-web", "games-batch"]) {
            const policies = await world.kube<V1NetworkPolicyList>(
                "GET",
                `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`,
            );
            const byName = Object.fromEntries(policies.items.map((p) => [p.metadata?.name, p.spec]));
            expect(Object.keys(byName).sort(), namespace).toEqual([
                "allow-same-namespace-and-platform",
                "default-deny-ingress",
                "deny-cloud-metadata",
            ]);
            const egress = byName["deny-cloud-metadata"];
            expect(egress?.podSelector).toEqual({});
            expect(egress?.policyTypes).toEqual(["Egress"]);
            expect(egress?.egress).toEqual([
                {
                    to: [
                        { ipBlock: { cidr: "0.0.0.0/0", except: [CLOUD_METADATA.ipv4] } },
                        { ipBlock: { cidr: "::/0", except: [CLOUD_METADATA.ipv6] } },
                        { namespaceSelector: {} },
                    ],
                },
            ]);
            const callers = byName["allow-same-namespace-and-platform"]?.ingress?.[0]?.from?.[1]?.namespaceSelector;
            expect(callers?.matchExpressions?.[0]?.values).toEqual(systemNamespaces("reachesApps"));
        }
    });
});

describe("the example apps' secrets", () => {
    test("each secretEnv value is readable in plain text only in its own Secret: not in the state, the engine's output or any other object", async () => {
        expect(await whereReadable(world, printed, APP_SECRETS.springDbPassword)).toEqual([
            "Secret games-web/spring-api-env",
        ]);
        expect(await whereReadable(world, printed, APP_SECRETS.yamlApiKey)).toEqual(["Secret games-web/yaml-api-env"]);
    });
});

describe("destroy", () => {
    test("the platform destroyed before its app stacks lets go of Knative's CRDs: the apps' objects stay, and its next up takes the CRDs back", async () => {
        const crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/services.serving.knative.dev";
        const crdUid = (await world.kube<{ metadata: V1ObjectMeta }>("GET", crd)).metadata.uid;
        const before = await appTeamsKnativeObjects(world);
        expect(Object.keys(before)).toEqual(
            expect.arrayContaining(["services games-batch/hourly-stats", "services games-web/spring-api"]),
        );

        await platform.destroy(engineOutput);
        // Deleting the CRD would have deleted every Knative Service with it: the same objects are all still there.
        expect((await world.kube<{ metadata: V1ObjectMeta }>("GET", crd)).metadata.uid).toBe(crdUid);
        expect(await appTeamsKnativeObjects(world)).toEqual(before);

        await upPlatformStandIn(world, platform);
        expect((await world.kube<{ metadata: V1ObjectMeta }>("GET", crd)).metadata.uid).toBe(crdUid);
        expect(await appTeamsKnativeObjects(world)).toEqual(before);
    }, 1_200_000);

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
        // Knative's revision Deployments go with their Services (the garbage collector follows the owners).
        await eventually("the app namespace holds no Deployment", async () => {
            const deployments = await world.kube<V1DeploymentList>(
                "GET",
                "/apis/apps/v1/namespaces/games-web/deployments",
            );
            return deployments.items.length === 0;
        });
        const { deployment } = await platform.exportStack();
        expect(deployment.resources ?? []).toEqual([]);
    });
});
