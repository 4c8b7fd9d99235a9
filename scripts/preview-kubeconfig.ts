/**
 * Prints a kubeconfig for a preview identity (components/platform/preview-identity.ts): the platform stack's, or an
 * app namespace's with `--namespace`. It reaches the cluster the deploy kubeconfig names, with a token the API
 * server issues for the identity's ServiceAccount (a TokenRequest, as `kubectl create token` makes). Give it to the
 * `preview-<env>` GitHub environment as its `KUBECONFIG` secret, and make a new one before it expires.
 *
 *   npm run preview-kubeconfig -- [--namespace <app namespace>] [--hours <lifetime, default 720>] > preview.kubeconfig
 *
 * The deploy kubeconfig is the ambient one (`KUBECONFIG`, or ~/.kube/config, at its current context). The API
 * server may shorten the lifetime (`--service-account-max-token-expiration`).
 */
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { AuthenticationV1TokenRequest, CoreV1Api, KubeConfig, V1TokenRequestSpec } from "@kubernetes/client-node";
import { type Account, previewAccount } from "../components/platform/preview-identity.ts";

/** `--hours` as the token's lifetime in seconds: a whole number of hours, 1 or more. */
export function tokenLifetimeSeconds(hours: string | undefined): number {
    const parsed = Number(hours);
    if (!Number.isInteger(parsed) || parsed < 1) {
        throw new Error(`--hours must be a whole number of hours, 1 or more (got "${String(hours)}")`);
    }
    return parsed * 3600;
}

/** A kubeconfig (JSON, which is YAML) of `account` on the cluster `deploy` reaches, valid for `seconds`. */
export async function previewKubeconfig(deploy: KubeConfig, account: Account, seconds: number): Promise<string> {
    const cluster = deploy.getCurrentCluster();
    if (cluster === null) throw new Error("the deploy kubeconfig has no current cluster");
    // The API server's default audience: an empty list.
    const spec = new V1TokenRequestSpec();
    spec.audiences = [];
    spec.expirationSeconds = seconds;
    const body = new AuthenticationV1TokenRequest();
    body.spec = spec;
    const answer = await deploy
        .makeApiClient(CoreV1Api)
        .createNamespacedServiceAccountToken({ namespace: account.namespace, name: account.name, body });
    const token = answer.status?.token;
    if (token === undefined) throw new Error(`the API server issued no token for ${account.namespace}/${account.name}`);
    const authority =
        cluster.caData ?? (cluster.caFile === undefined ? undefined : readFileSync(cluster.caFile).toString("base64"));
    const name = `${account.namespace}-${account.name}`;
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
            {
                name: cluster.name,
                cluster: {
                    server: cluster.server,
                    ...(authority === undefined ? {} : { "certificate-authority-data": authority }),
                },
            },
        ],
        users: [{ name, user: { token } }],
        contexts: [{ name, context: { cluster: cluster.name, user: name } }],
        "current-context": name,
    });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
    const { values } = parseArgs({
        options: { namespace: { type: "string" }, hours: { type: "string", default: "720" } },
    });
    const seconds = tokenLifetimeSeconds(values.hours);
    const deploy = new KubeConfig();
    deploy.loadFromDefault();
    process.stdout.write(`${await previewKubeconfig(deploy, previewAccount(values.namespace), seconds)}\n`);
}
