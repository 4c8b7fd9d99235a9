/**
 * Knative's admission webhooks in the simulated cluster, run by Knative's own code: the
 * toolchain's knative-judge serves the defaulting and validating webhooks for Knative Services
 * on loopback, with a serving certificate signed by the cluster's CA, and the API server calls
 * it as a real cluster calls Knative's webhook (failure policy Fail). So `pulumi up` is refused
 * where a real cluster would refuse, and the objects it stores carry Knative's defaults. The
 * webhooks read the cluster's Knative config with Knative's own parsers, so a config value that
 * Knative's config webhook would refuse stops them from starting. (The platform's own end-to-end
 * test runs Knative's real webhook instead, on the cluster host.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort } from "../toolchain/cluster-host.ts";
import { signCertificate } from "../toolchain/local-cluster.ts";
import { toolchain } from "../toolchain/toolchain.ts";
import type { World } from "./world.ts";

const RULES = [
    {
        apiGroups: ["serving.knative.dev"],
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        resources: ["services"],
    },
];

function listening(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
            socket.end();
            resolve(true);
        });
        socket.on("error", () => {
            resolve(false);
        });
    });
}

/** The judge serving Knative's webhooks on loopback, as the API server reaches it. */
interface JudgeServer {
    clientConfig: (path: string) => { url: string; caBundle: string };
    stop(): void;
}

/** Starts knative-judge's admission server with the cluster's Knative config (ConfigMap data by name). */
async function startJudgeServer(
    world: World,
    knativeConfig: Record<string, Record<string, string>>,
): Promise<JudgeServer> {
    const { knativeJudge } = toolchain("judge");
    const dir = world.cluster.dir;
    writeFileSync(join(dir, "knative-config.json"), JSON.stringify(knativeConfig));
    signCertificate(dir, "webhook", "/CN=knative-webhook", "IP:127.0.0.1");

    const port = await freePort();
    const server: ChildProcess = spawn(
        knativeJudge,
        [
            "serve",
            `127.0.0.1:${String(port)}`,
            join(dir, "webhook.crt"),
            join(dir, "webhook.key"),
            join(dir, "knative-config.json"),
        ],
        { stdio: ["ignore", "inherit", "inherit"] },
    );
    for (let attempt = 0; !(await listening(port)); attempt++) {
        if (attempt === 200 || server.exitCode !== null)
            throw new Error("knative-judge did not start serving admission");
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const caBundle = readFileSync(join(dir, "ca.crt")).toString("base64");
    return {
        clientConfig: (path) => ({ url: `https://127.0.0.1:${String(port)}${path}`, caBundle }),
        stop: () => {
            server.kill("SIGKILL");
        },
    };
}

const webhookDefaults = {
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: "Fail",
    timeoutSeconds: 10,
};

/**
 * Starts the webhooks, with the cluster's Knative config (ConfigMap data by name, as the platform
 * writes it), and registers them with the API server; `stop()` ends the server.
 */
export async function startKnativeAdmission(
    world: World,
    knativeConfig: Record<string, Record<string, string>>,
): Promise<{ stop(): void }> {
    const judge = await startJudgeServer(world, knativeConfig);
    const webhook = (name: string, path: string) => ({
        name,
        clientConfig: judge.clientConfig(path),
        rules: RULES,
        ...webhookDefaults,
    });
    await world.kube("POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: "webhook.serving.knative.dev" },
        webhooks: [webhook("webhook.serving.knative.dev", "/defaults")],
    });
    await world.kube("POST", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations", {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: "validation.webhook.serving.knative.dev" },
        webhooks: [webhook("validation.webhook.serving.knative.dev", "/validate")],
    });
    return judge;
}
