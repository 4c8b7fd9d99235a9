/**
 * The identities pull-request previews run as: a ServiceAccount for the platform stack's previews and one in each
 * app namespace for its app stacks', whose every write that is not a dry run the API server itself refuses.
 *
 * With server-side apply a preview is a dry-run write, which RBAC authorises like the write itself: RBAC alone
 * cannot make an identity that previews but never changes anything. A ValidatingAdmissionPolicy on
 * `request.dryRun` can: it refuses every create, update, delete and connect from these identities that is not a
 * dry run. The API server never runs admission policies on admission policies and their bindings (k8s.io/apiserver
 * `policy/generic/plugin.go`, `admissionResources`), so the identities may not write those at all.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { APP_TEAM_ROLE } from "./cluster.ts";
import { PREVIEWS_NAMESPACE } from "../shared/system-namespaces.ts";

/** The ServiceAccount's name, in {@link PREVIEWS_NAMESPACE} for the platform and in each app namespace for its stacks. */
export const PREVIEW_ACCOUNT = "pulumi-preview";
export const PREVIEWS_POLICY = "preview-identities-only-dry-run";

/** A ServiceAccount, as `kubectl create token` and the API server's usernames name it. */
export interface Account {
    namespace: string;
    name: string;
}

/** The platform stack's preview identity, or `namespace`'s (an app namespace) when given. */
export function previewAccount(namespace?: string): Account {
    return { namespace: namespace ?? PREVIEWS_NAMESPACE, name: PREVIEW_ACCOUNT };
}

/** The username the API server gives a ServiceAccount's tokens. */
export function usernameOf(account: Account): string {
    return `system:serviceaccount:${account.namespace}:${account.name}`;
}

const READ = ["get", "list", "watch"];
/** Writes, which the admission policy lets through as dry runs only. */
const WRITE = ["create", "update", "patch", "delete"];

/**
 * The core API's resources a platform preview reads and dry-runs: every one but Secrets (read only in the
 * platform's namespaces) and the subresources that reach into a pod, a node or an account's tokens.
 */
const CORE_RESOURCES = [
    "configmaps",
    "endpoints",
    "events",
    "limitranges",
    "namespaces",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "pods",
    "podtemplates",
    "replicationcontrollers",
    "resourcequotas",
    "serviceaccounts",
    "services",
];

/** What the program reads itself before it registers anything (cluster-facts.ts) and the CrdSets read back. */
const PROGRAM_READS: k8s.types.input.rbac.v1.PolicyRule[] = [
    { apiGroups: ["apps"], resources: ["deployments"], verbs: READ },
    { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: READ },
    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: READ },
];

const ADMISSION = "admissionregistration.k8s.io";
const RBAC = "rbac.authorization.k8s.io";

/**
 * The platform preview's cluster-wide rules: read and dry-run write every kind of object the stack applies (the
 * API groups `groups` names, whole), core objects but Secrets, the webhook configurations but no admission policy
 * or binding; RBAC objects with `escalate` and `bind`, so that a dry run of Knative's roles is checked by the
 * API server rather than refused for rights the identity does not hold (the admission policy refuses the real
 * write). No `impersonate`, no token requests, no `exec`, `attach`, `portforward` or `proxy`.
 */
export function platformPreviewRules(groups: readonly string[]): k8s.types.input.rbac.v1.PolicyRule[] {
    const whole = [...new Set(groups)].filter((group) => group !== "" && group !== ADMISSION);
    return [
        { apiGroups: [""], resources: CORE_RESOURCES, verbs: [...READ, ...WRITE] },
        ...(whole.length > 0 ? [{ apiGroups: whole, resources: ["*"], verbs: [...READ, ...WRITE] }] : []),
        { apiGroups: [ADMISSION], resources: ["*"], verbs: READ },
        {
            apiGroups: [ADMISSION],
            resources: ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
            verbs: WRITE,
        },
        { apiGroups: [RBAC], resources: ["roles", "clusterroles"], verbs: ["escalate", "bind"] },
        ...PROGRAM_READS,
    ];
}

/**
 * The API groups of the objects the platform stack applies, charts' and manifests' included, besides the core API
 * and admission registration (whose resources the rules name one by one): Kubernetes' own, and those of the CRDs
 * that Istio, Knative, ECK and the Prometheus Operator install. Checked against every object of the platform's
 * state on the real charts and manifests (e2e/platform-dev.e2e.test.ts) and under mocks (test/platform.test.ts).
 */
export const PLATFORM_API_GROUPS: readonly string[] = [
    "apiextensions.k8s.io",
    "apps",
    "autoscaling",
    "batch",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "networking.istio.io",
    "security.istio.io",
    "caching.internal.knative.dev",
    "eventing.knative.dev",
    "networking.internal.knative.dev",
    "elasticsearch.k8s.elastic.co",
    "kibana.k8s.elastic.co",
    "monitoring.coreos.com",
];

/** The API group of a Kubernetes provider's resource type (`kubernetes:apps/v1:Deployment` → `apps`; core → ""). */
export function groupOfType(type: string): string | undefined {
    const match = /^kubernetes:([^:/]+)\/[^:/]+:[^:]+$/.exec(type);
    if (match?.[1] === undefined) return undefined;
    return match[1] === "core" ? "" : match[1];
}

/** Arguments of {@link PreviewIdentities}. */
export interface PreviewIdentitiesArgs {
    /** The API groups of the objects the platform stack applies. @default {@link PLATFORM_API_GROUPS} */
    apiGroups?: readonly string[];
    /**
     * The platform's own namespaces, whose Secrets the platform's previews may read (a dry-run patch of a Secret
     * answers with the Secret): those the stack applies objects into. They must exist: pass the components that
     * create them as `dependsOn`.
     */
    platformNamespaces: string[];
    /** The app namespaces: each gets an identity for its app stacks' previews, with its app team's rights there. */
    appNamespaces: ReadonlyMap<string, k8s.core.v1.Namespace>;
}

/**
 * The preview identities and the admission policy that keeps them to dry runs. Their kubeconfigs are made with
 * `npm run preview-kubeconfig` and given to the `preview-<env>` GitHub environments (docs/platform-team.md).
 *
 * ```ts
 * new PreviewIdentities("previews", {
 *     platformNamespaces: ["istio-system", "knative-serving"],
 *     appNamespaces: apps.namespaces,
 * }, { dependsOn: [istio, serving] });
 * ```
 */
export class PreviewIdentities extends pulumi.ComponentResource {
    /** The platform stack's preview identity. */
    public readonly platform: Account = previewAccount();
    /** Each app namespace's preview identity, by namespace. */
    public readonly apps: Record<string, Account>;

    constructor(name: string, args: PreviewIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:cluster:PreviewIdentities", name, {}, opts);
        this.apps = Object.fromEntries(
            [...args.appNamespaces.keys()].map((namespace) => [namespace, previewAccount(namespace)]),
        );
        // First: no identity exists, even for a moment, without the policy that keeps it to dry runs.
        const policy = dryRunOnlyPolicy(this, name, [this.platform, ...Object.values(this.apps)]);
        const afterPolicy = { parent: this, dependsOn: [policy] };

        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: PREVIEWS_NAMESPACE,
                    labels: { "pod-security.kubernetes.io/enforce": "restricted" },
                },
            },
            afterPolicy,
        );
        const account = new k8s.core.v1.ServiceAccount(
            `${name}-platform`,
            { metadata: { ...this.platform }, automountServiceAccountToken: false },
            { parent: this, dependsOn: [policy, namespace] },
        );
        const subjects = [{ kind: "ServiceAccount", ...this.platform }];
        const role = new k8s.rbac.v1.ClusterRole(
            `${name}-platform`,
            {
                metadata: { name: "platform-preview" },
                rules: platformPreviewRules(args.apiGroups ?? PLATFORM_API_GROUPS),
            },
            afterPolicy,
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-platform`,
            {
                metadata: { name: "platform-preview" },
                roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "platform-preview" },
                subjects,
            },
            { parent: this, dependsOn: [role, account] },
        );
        const secrets = new k8s.rbac.v1.ClusterRole(
            `${name}-platform-secrets`,
            {
                metadata: { name: "platform-preview-secrets" },
                rules: [{ apiGroups: [""], resources: ["secrets"], verbs: [...READ, ...WRITE] }],
            },
            afterPolicy,
        );
        for (const platformNamespace of args.platformNamespaces) {
            new k8s.rbac.v1.RoleBinding(
                `${name}-platform-secrets-${platformNamespace}`,
                {
                    metadata: { name: "platform-preview-secrets", namespace: platformNamespace },
                    roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "platform-preview-secrets" },
                    subjects,
                },
                { parent: this, dependsOn: [secrets, account] },
            );
        }

        for (const [appNamespace, namespaceResource] of args.appNamespaces) {
            const identity = previewAccount(appNamespace);
            const appAccount = new k8s.core.v1.ServiceAccount(
                `${name}-${appNamespace}`,
                { metadata: { ...identity }, automountServiceAccountToken: false },
                { parent: this, dependsOn: [policy, namespaceResource] },
            );
            // An app stack deploys what its team may: the preview identity has the team's role, as dry runs.
            new k8s.rbac.v1.RoleBinding(
                `${name}-${appNamespace}`,
                {
                    metadata: { ...identity },
                    roleRef: { apiGroup: RBAC, kind: "Role", name: APP_TEAM_ROLE },
                    subjects: [{ kind: "ServiceAccount", ...identity }],
                },
                { parent: this, dependsOn: [appAccount] },
            );
        }
        this.registerOutputs({});
    }
}

/** The admission policy, and its binding, that refuses every write from `accounts` that is not a dry run. */
function dryRunOnlyPolicy(parent: pulumi.Resource, name: string, accounts: Account[]): pulumi.Resource {
    const usernames = accounts.map((account) => `'${usernameOf(account)}'`).join(", ");
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
        `${name}-policy`,
        {
            metadata: { name: PREVIEWS_POLICY },
            spec: {
                failurePolicy: "Fail",
                matchConstraints: {
                    resourceRules: [
                        {
                            apiGroups: ["*"],
                            apiVersions: ["*"],
                            operations: ["*"],
                            // Every resource and every subresource.
                            resources: ["*/*"],
                        },
                    ],
                },
                matchConditions: [
                    { name: "preview-identity", expression: `request.userInfo.username in [${usernames}]` },
                ],
                validations: [
                    {
                        expression: "request.dryRun",
                        messageExpression: `request.userInfo.username + ' is a preview identity: it may only dry-run (pulumi preview), and this ' + request.operation + ' of ' + request.resource.resource + (request.name == '' ? '' : ' ' + request.name) + ' was not a dry run'`,
                        reason: "Forbidden",
                    },
                ],
            },
        },
        { parent },
    );
    return new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
        `${name}-binding`,
        {
            metadata: { name: PREVIEWS_POLICY },
            spec: { policyName: PREVIEWS_POLICY, validationActions: ["Deny"] },
        },
        { parent, dependsOn: [policy] },
    );
}
