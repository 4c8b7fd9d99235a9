/**
 * The cluster host's admission stand-ins: an upstream webhook whose code is not reachable here is answered
 * by a TLS server that allows every request (istiod's injection path excepted: sidecar-injection.ts renders
 * the sidecar from the installed chart) and, as the upstream pod does when it starts, its CA is written
 * into the webhook configurations that name its Service.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { kube } from "../kube-api.ts";
import { INJECTION_PATH, injectSidecar } from "../sidecar-injection.ts";
import { type HostConfig, type ServiceKey, endpointSlicesOf, log, serviceKey } from "./objects.ts";

/** An upstream webhook admitted without a check, and why its own code does not answer. */
export interface UncheckedWebhook {
    namespace: string;
    service: string;
    port: number;
    /** Who writes the CA into the webhook configurations on a real cluster (the field manager here). */
    upstream: string;
    why: string;
}

export const UNCHECKED_WEBHOOKS: UncheckedWebhook[] = [
    {
        namespace: "istio-system",
        service: "istiod",
        port: 443,
        upstream: "istiod",
        why: "Istio is not served as a Go module at a release tag: Istio's objects are admitted without validation; pods get their sidecar from istio-injector (sidecar-injection.ts)",
    },
    {
        namespace: "knative-eventing",
        service: "kafka-webhook-eventing",
        port: 443,
        upstream: "kafka-webhook-eventing",
        why: "eventing-kafka-broker is not served as a Go module: the Kafka dispatchers' pods are admitted without its defaulting",
    },
];

/** The certificate files of an unchecked webhook's answerer, in the cluster's directory. */
export function uncheckedWebhookCertificate(webhook: UncheckedWebhook): { name: string; dnsName: string } {
    return {
        name: `webhook-${webhook.namespace}-${webhook.service}`,
        dnsName: `${webhook.service}.${webhook.namespace}.svc`,
    };
}

/** The part of an AdmissionReview request a webhook here reads. */
export interface AdmissionReview {
    apiVersion: string;
    request: { uid: string; dryRun?: boolean };
}

/** Reads the AdmissionReview the API server posts to a webhook. */
export function admissionReviewOf(request: IncomingMessage): Promise<AdmissionReview> {
    return new Promise((resolve, reject) => {
        let body = "";
        request.on("data", (chunk: Buffer) => (body += chunk.toString()));
        request.on("end", () => {
            try {
                resolve(JSON.parse(body) as AdmissionReview);
            } catch (error) {
                reject(error instanceof Error ? error : new Error(String(error)));
            }
        });
    });
}

/** Answers an AdmissionReview: allowed, unchanged. */
export function allowAdmission(response: ServerResponse, review: AdmissionReview): void {
    response.setHeader("content-type", "application/json");
    response.end(
        JSON.stringify({
            apiVersion: review.apiVersion,
            kind: "AdmissionReview",
            response: { uid: review.request.uid, allowed: true },
        }),
    );
}

/**
 * Answers each unchecked webhook's Service on a loopback port: every admission request allowed, as nothing
 * checks it. Returns where each Service port is answered.
 */
export async function serveUncheckedWebhooks(config: HostConfig): Promise<Map<ServiceKey, number>> {
    const answerers = new Map<ServiceKey, number>();
    for (const webhook of UNCHECKED_WEBHOOKS) {
        const { name } = uncheckedWebhookCertificate(webhook);
        const server = createServer(
            {
                key: readFileSync(join(config.dir, `${name}.key`)),
                cert: readFileSync(join(config.dir, `${name}.crt`)),
            },
            (request, response) => {
                void admissionReviewOf(request).then(async (review) => {
                    if (webhook.service !== "istiod" || !request.url?.startsWith(INJECTION_PATH)) {
                        allowAdmission(response, review);
                        return;
                    }
                    const read = (configMap: string) =>
                        kube<{ data?: Record<string, string> }>(
                            config,
                            "GET",
                            `/api/v1/namespaces/istio-system/configmaps/${configMap}`,
                        );
                    response.setHeader("content-type", "application/json");
                    response.end(await injectSidecar(config.binaries.istioInjector, read, review));
                });
            },
        );
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        answerers.set(
            serviceKey(webhook.namespace, webhook.service, webhook.port),
            (server.address() as AddressInfo).port,
        );
    }
    return answerers;
}

interface WebhookConfiguration {
    metadata: { name: string };
    webhooks?: { clientConfig: { service?: { name: string; namespace: string }; caBundle?: string } }[];
}

/** As the upstream pod does once it runs: its CA in every webhook configuration that names its Service. */
export async function writeUncheckedCaBundles(config: HostConfig): Promise<void> {
    const caBundle = readFileSync(config.caFile).toString("base64");
    for (const kind of ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"]) {
        const list = await kube<{ items: WebhookConfiguration[] }>(
            config,
            "GET",
            `/apis/admissionregistration.k8s.io/v1/${kind}`,
        );
        for (const configuration of list.items) {
            for (const [index, webhook] of (configuration.webhooks ?? []).entries()) {
                const service = webhook.clientConfig.service;
                const unchecked = UNCHECKED_WEBHOOKS.find(
                    (w) => w.service === service?.name && w.namespace === service.namespace,
                );
                if (unchecked === undefined || webhook.clientConfig.caBundle === caBundle) continue;
                const slices = await endpointSlicesOf(config, unchecked.namespace, unchecked.service);
                const ready = slices.some((slice) =>
                    (slice.endpoints ?? []).some((e) => e.conditions?.ready !== false),
                );
                if (!ready) continue;
                await kube(
                    config,
                    "PATCH",
                    `/apis/admissionregistration.k8s.io/v1/${kind}/${configuration.metadata.name}?fieldManager=${unchecked.upstream}`,
                    [{ op: "add", path: `/webhooks/${String(index)}/clientConfig/caBundle`, value: caBundle }],
                    "application/json-patch+json",
                );
                log(`${unchecked.upstream}: CA written into ${kind}/${configuration.metadata.name}`);
            }
        }
    }
}
