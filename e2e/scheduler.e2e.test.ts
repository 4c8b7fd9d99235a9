/**
 * The warm-capacity scheduler's own code against a real API server: with its
 * least-privilege Role, it sets the scheduled min-scale on the revision that
 * takes traffic inside the window, and takes it back outside.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { clientFromEnvironment, reconcile } from "../components/shared/warm/scheduler.ts";
import { SCHEDULER_RULES, schedulerSources } from "../components/platform/warm-scheduler.ts";
import { MANAGED_ANNOTATION, SCHEDULE_ANNOTATION, type WarmSchedule } from "../components/shared/warm/windows.ts";
import { kube } from "../toolchain/kube-api.ts";
import { installKnativeCrds } from "./knative-crds.ts";
import { type World, startWorld } from "./world.ts";

/** The part of a Knative Revision the tests read. */
interface Revision {
    metadata: { name: string; annotations?: Record<string, string> };
}

const NS = "games-web";
const SERVING = "/apis/serving.knative.dev/v1";

const schedule: WarmSchedule = {
    baseMinScale: 0,
    windows: [{ from: "18:00", until: "02:00", timezone: "Asia/Seoul", minScale: 3 }],
    warmUp: true,
};

let world: World | undefined;
const running = (): World => {
    if (world === undefined) throw new Error("the test cluster did not start");
    return world;
};
let schedulerToken: string;

beforeAll(async () => {
    const started = await startWorld();
    world = started;
    const admin = started.kube;
    await installKnativeCrds(started, ["servingCore"]);
    await admin("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });

    // The scheduler's identity: exactly the Role the platform gives it.
    const meta = { name: "warm-scheduler", namespace: NS };
    await admin("POST", `/api/v1/namespaces/${NS}/serviceaccounts`, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: meta,
    });
    await admin("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: meta,
        rules: SCHEDULER_RULES,
    });
    await admin("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: meta,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "warm-scheduler" },
        subjects: [{ kind: "ServiceAccount", name: "warm-scheduler", namespace: NS }],
    });
    const tokenRequest = await admin<{ status: { token: string } }>(
        "POST",
        `/api/v1/namespaces/${NS}/serviceaccounts/warm-scheduler/token`,
        {
            apiVersion: "authentication.k8s.io/v1",
            kind: "TokenRequest",
            spec: { expirationSeconds: 3600 },
        },
    );
    schedulerToken = tokenRequest.status.token;

    // A Knative Service whose status routes all traffic to api-00002; api-00001 takes none.
    await admin("POST", `${SERVING}/namespaces/${NS}/services`, {
        apiVersion: "serving.knative.dev/v1",
        kind: "Service",
        metadata: { name: "api", namespace: NS, annotations: { [SCHEDULE_ANNOTATION]: JSON.stringify(schedule) } },
        spec: { template: { spec: { containers: [{ image: "registry.example.com/api:1.0.0" }] } } },
    });
    await admin(
        "PATCH",
        `${SERVING}/namespaces/${NS}/services/api/status`,
        {
            status: {
                address: { url: "http://api.games-web.svc.cluster.local" },
                traffic: [{ revisionName: "api-00002", percent: 100 }],
            },
        },
        "application/merge-patch+json",
    );
    for (const revision of ["api-00001", "api-00002"]) {
        await admin("POST", `${SERVING}/namespaces/${NS}/revisions`, {
            apiVersion: "serving.knative.dev/v1",
            kind: "Revision",
            metadata: {
                name: revision,
                namespace: NS,
                labels: { "serving.knative.dev/service": "api" },
                annotations: { "autoscaling.knative.dev/min-scale": "0" },
            },
            spec: { containers: [{ image: "registry.example.com/api:1.0.0" }] },
        });
    }
}, 1_800_000);

afterAll(async () => {
    await world?.stop();
});

async function minScales(): Promise<Record<string, string | undefined>> {
    const list = await kube<{ items: Revision[] }>(running().cluster, "GET", `${SERVING}/namespaces/${NS}/revisions`);
    return Object.fromEntries(
        list.items.map((r) => [r.metadata.name, r.metadata.annotations?.["autoscaling.knative.dev/min-scale"]]),
    );
}

describe("the scheduler against a real API server, as its own service account", () => {
    const asScheduler = () =>
        clientFromEnvironment({
            KUBE_API: running().cluster.api,
            KUBE_TOKEN: schedulerToken,
            KUBE_CA_FILE: running().cluster.caFile,
            NAMESPACE: NS,
        });

    test("inside the window the routed revision gets the window's min-scale, and a warm-up is sent", async () => {
        const { client, namespace } = asScheduler();
        const warmed: string[] = [];
        const report = await reconcile(client, namespace, new Date("2026-11-26T12:00:00Z"), (url) => {
            warmed.push(url);
            return Promise.resolve();
        });
        expect(report.errors).toEqual([]);
        expect(await minScales()).toEqual({ "api-00001": "0", "api-00002": "3" });
        expect(warmed).toEqual(["http://api.games-web.svc.cluster.local"]);
    });

    test("outside it the revision goes back to the template's min-scale", async () => {
        const { client, namespace } = asScheduler();
        await reconcile(client, namespace, new Date("2026-11-26T03:00:00Z"), () => Promise.resolve());
        expect(await minScales()).toEqual({ "api-00001": "0", "api-00002": "0" });
    });

    test("removing the schedule gives the revision the template's own min-scale back, written out", async () => {
        const { client, namespace } = asScheduler();
        await reconcile(client, namespace, new Date("2026-11-26T12:00:00Z"), () => Promise.resolve());
        expect(await minScales()).toEqual({ "api-00001": "0", "api-00002": "3" });
        await running().kube(
            "PATCH",
            `${SERVING}/namespaces/${NS}/services/api`,
            { metadata: { annotations: { [SCHEDULE_ANNOTATION]: null } } },
            "application/merge-patch+json",
        );
        const report = await reconcile(client, namespace, new Date("2026-11-26T12:00:00Z"), () => Promise.resolve());
        expect(report.patched).toEqual([{ service: "api", revision: "api-00002", minScale: 0 }]);
        expect(await minScales()).toEqual({ "api-00001": "0", "api-00002": "0" });
        const revision = await running().kube<Revision>("GET", `${SERVING}/namespaces/${NS}/revisions/api-00002`);
        expect(revision.metadata.annotations?.[MANAGED_ANNOTATION]).toBeUndefined();
    });

    test("the program starts as the pod starts it: from the ConfigMap's symlinked files, by its command line", async () => {
        // A schedule open all day, whatever the time: the window from midnight to midnight.
        const allDay = {
            ...schedule,
            windows: [{ ...schedule.windows[0]!, from: "00:00", until: "00:00", minScale: 2 }],
        };
        await running().kube(
            "PATCH",
            `${SERVING}/namespaces/${NS}/services/api`,
            { metadata: { annotations: { [SCHEDULE_ANNOTATION]: JSON.stringify(allDay) } } },
            "application/merge-patch+json",
        );
        // The layout the kubelet makes of a ConfigMap volume: the files in a timestamped directory,
        // `..data` linking to it, and each key a link through `..data`.
        const mount = mkdtempSync(join(tmpdir(), "warm-scheduler-mount-"));
        const version = "..2026_11_26_00_00_00.000000001";
        mkdirSync(join(mount, version));
        for (const [file, text] of Object.entries(schedulerSources())) {
            writeFileSync(join(mount, version, file), text);
            symlinkSync(join("..data", file), join(mount, file));
        }
        symlinkSync(version, join(mount, "..data"));
        const entry = Object.keys(schedulerSources()).find((file) => file.startsWith("scheduler."))!;
        const program = spawn(process.execPath, [join(mount, entry)], {
            env: {
                PATH: process.env.PATH,
                KUBE_API: running().cluster.api,
                KUBE_TOKEN: schedulerToken,
                KUBE_CA_FILE: running().cluster.caFile,
                NAMESPACE: NS,
                INTERVAL_SECONDS: "1",
            },
            stdio: ["ignore", "pipe", "pipe"],
        });
        try {
            const output = await new Promise<string>((resolve, reject) => {
                let text = "";
                program.stdout.on("data", (chunk: Buffer) => {
                    text += chunk.toString();
                    if (text.includes("set min-scale 2 on api/api-00002")) resolve(text);
                });
                program.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
                program.on("exit", (code) => {
                    reject(new Error(`the scheduler exited (${String(code)}) without patching:\n${text}`));
                });
            });
            expect(output).toMatch(/^warm scheduler: namespace games-web, every 1s$/m);
            expect(await minScales()).toEqual({ "api-00001": "0", "api-00002": "2" });
        } finally {
            program.kill("SIGKILL");
            rmSync(mount, { recursive: true, force: true });
        }
    });

    test("its Role allows nothing else", async () => {
        const target = { api: running().cluster.api, token: schedulerToken, caFile: running().cluster.caFile };
        await expect(kube(target, "GET", `/api/v1/namespaces/${NS}/pods`)).rejects.toThrow(/403/);
        await expect(kube(target, "DELETE", `${SERVING}/namespaces/${NS}/revisions/api-00001`)).rejects.toThrow(/403/);
        await expect(
            kube(
                target,
                "PATCH",
                `${SERVING}/namespaces/${NS}/services/api`,
                { metadata: { labels: { x: "y" } } },
                "application/merge-patch+json",
            ),
        ).rejects.toThrow(/403/);
    });
});
