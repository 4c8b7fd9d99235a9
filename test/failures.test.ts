import { describe, expect, test } from "vitest";
import { explainFailure, explainPendingOperations } from "../scripts/failures.ts";

// The provider's own words when this machine cannot reach GitHub (seen on the real engine).
const offline = new Error(
    "error: kubernetes:yaml/v2:ConfigFile resource 'knative-serving-crds' has a problem: marshaling properties: " +
        'awaiting input property "resources": fetching YAML over network: Get ' +
        '"https://github.com/knative/serving/releases/download/knative-v1.22.1/serving-crds.yaml": ' +
        "dial tcp: lookup github.com on 10.255.255.53:53: no such host",
);

describe("explaining a failed run", () => {
    test("an unreachable upstream URL names the sources key that points it at a mirror", () => {
        expect(explainFailure(offline, {})).toBe(
            "The platform could not fetch https://github.com/knative/serving/releases/download/knative-v1.22.1/serving-crds.yaml from this machine.\n" +
                "Point serverless-platform:sources.knativeManifestBaseUrl (now https://github.com) at a mirror you can reach; " +
                'see docs/platform-team.md, section "Versions, upgrades and mirrors".',
        );
    });

    test("a configured mirror that is unreachable is named with its own value", () => {
        const mirror = new Error(
            'looks like "https://charts.corp.example/istio" is not a valid chart repository: dial tcp: i/o timeout',
        );
        const config = { "serverless-platform:sources": { istioChartRepository: "https://charts.corp.example/istio" } };
        expect(explainFailure(mirror, config)).toMatch(
            /^The platform could not fetch https:\/\/charts\.corp\.example\/istio from this machine\.\nPoint serverless-platform:sources\.istioChartRepository \(now https:\/\/charts\.corp\.example\/istio\)/,
        );
    });

    test("a stack another run holds names the holder, and says how to clear a stale lock and what to run next", () => {
        // The file backend's own words (pkg/backend/diy/lock.go).
        const locked = new Error(
            "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
                "  file:///state/.pulumi/locks/organization/serverless-platform/dev/1f0c.json: created by ci@runner-7 (pid 4242) at 2026-12-01T18:00:00Z",
        );
        expect(explainFailure(locked, {}, "dev")).toBe(
            "Another run of stack dev holds its lock:\n" +
                "  ci@runner-7, process 4242, since 2026-12-01T18:00:00Z (file:///state/.pulumi/locks/organization/serverless-platform/dev/1f0c.json)\n" +
                "If it is still running, wait for it to end. If it is not (killed, or its machine gone), clear the stale lock with " +
                "`pulumi cancel --stack dev` on the same backend (or delete the lock file above), then run again with --refresh, " +
                "so that the state is read back from the cluster first: npm run up -- dev --refresh",
        );
    });

    test("a run interrupted with operations in flight lists them and says to run again with --refresh", () => {
        const pending = [
            {
                type: "creating",
                urn: "urn:pulumi:dev::serverless-platform::serverless-platform:knative:KnativeServing$kubernetes:apps/v1:Deployment::knative-serving/controller",
            },
        ];
        expect(explainPendingOperations("dev", pending)).toBe(
            "The last run of stack dev was interrupted with 1 operation(s) in flight:\n" +
                "  creating kubernetes:apps/v1:Deployment knative-serving/controller\n" +
                "The cluster may hold what they did while the state does not record it. Run again with --refresh: " +
                "npm run up -- dev --refresh reads every object back from the cluster and drops the operations in flight, " +
                "and the run that follows takes over any object they had made instead of making it twice.",
        );
    });

    test("a cluster that stops answering mid-run is named, with how to resume", () => {
        // The provider's own words when the API server went away mid-up (seen on the real engine).
        const outage = new Error(
            'error: resource "urn:pulumi:dev::orders::kubernetes:core/v1:ConfigMap::after" was not successfully created by the Kubernetes API server: ' +
                'Patch "https://10.0.0.1:6443/api/v1/namespaces/default/configmaps/after?fieldManager=pulumi-kubernetes-095fcc50&force=false": ' +
                "dial tcp 10.0.0.1:6443: connect: connection refused",
        );
        expect(explainFailure(outage, {}, "dev")).toBe(
            "The cluster of stack dev stopped answering at https://10.0.0.1:6443 during the run; what the run did until then " +
                "is in the cluster and its state. Once the cluster answers again (`npm run cluster -- start` for the local one), " +
                "run again with --refresh, which reads it back first: npm run up -- dev --refresh",
        );
    });

    test("a cluster lost during the provider's discovery call is named too", () => {
        // The provider's words when the API server went away as it created a Knative Service (seen on the real
        // engine, e2e/app-stack-faults.e2e.test.ts): its discovery call has no path after /api.
        const outage = new Error(
            'error: resource "urn:pulumi:dev::held-app::kubernetes:serving.knative.dev/v1:Service::outage" was not successfully ' +
                'created by the Kubernetes API server: Get "https://10.0.0.1:6443/api?timeout=32s": dial tcp 10.0.0.1:6443: ' +
                "connect: connection refused",
        );
        expect(explainFailure(outage, {}, "dev")).toMatch(
            /^The cluster of stack dev stopped answering at https:\/\/10\.0\.0\.1:6443 during the run;/,
        );
    });

    test("a cluster that dies while it holds the provider's request is named too", () => {
        // The provider's words when the API server was killed as it admitted a Namespace (seen on the real engine,
        // e2e/platform-staging.e2e.test.ts): the connection ends mid-request.
        const outage = new Error(
            'error: resource "urn:pulumi:staging::serverless-platform::serverless-platform:mesh:Istio$kubernetes:core/v1:Namespace::istio-system" ' +
                'was not successfully created by the Kubernetes API server: Patch "https://10.0.0.1:6443/api/v1/namespaces/istio-system?' +
                'fieldManager=pulumi-kubernetes-74fac5e9&fieldValidation=Warn&force=false": unexpected EOF',
        );
        expect(explainFailure(outage, {}, "staging")).toMatch(
            /^The cluster of stack staging stopped answering at https:\/\/10\.0\.0\.1:6443 during the run;/,
        );
    });

    test("a run stopped by Ctrl-C says that nothing needs clearing and what to run to finish", () => {
        // The CLI's own words on SIGINT, in the Automation API's error (its stdout), with the failures of the
        // steps it cancelled (seen on the real engine, e2e/platform-prod.e2e.test.ts).
        const stopped = new Error(
            "code: 255\n stdout: Updating (prod):\n^C received; cancelling. If you would like to terminate immediately, press ^C again.\n" +
                ' ~  kubernetes:rbac.authorization.k8s.io/v1:ClusterRole eventing-broker-filter **updating failed** error: update of resource "urn:pulumi:prod::serverless-platform::kubernetes:rbac.authorization.k8s.io/v1:ClusterRole::eventing-broker-filter" failed: client rate limiter Wait returned an error: context canceled\n',
        );
        expect(explainFailure(stopped, {}, "prod")).toBe(
            "The run of stack prod was stopped (Ctrl-C): the engine started nothing new, let the steps in flight end " +
                "(or fail, cancelled), saved the state and released the lock. Nothing needs clearing; run again to finish " +
                "what it had not done: npm run up -- prod",
        );
    });

    test("a run stopped by Ctrl-C twice is treated as killed", () => {
        const terminated = new Error(
            "code: 255\n stdout: ^C received; cancelling. If you would like to terminate immediately, press ^C again.\n^C received; terminating\n",
        );
        expect(explainFailure(terminated, {}, "prod")).toBe(
            "The run of stack prod was stopped at once (Ctrl-C twice), as if killed: its lock and operations in flight " +
                "may remain. Run again with --refresh, which says what to clear first: npm run up -- prod --refresh",
        );
    });

    test("a state whose file backend sidecar a killed run left empty says which files to delete", () => {
        // The CLI's words for every command on such a stack (CI met it after a SIGKILL; reproduced by emptying it).
        const unreadable = new Error(
            "Command failed with exit code 1: pulumi config set --path serverless-platform:knative.replicas --stack dev\n" +
                "error: failed to load checkpoint: EOF",
        );
        expect(explainFailure(unreadable, {}, "dev")).toBe(
            "The state of stack dev cannot be read: a run killed while the file backend rewrote the metadata sidecar " +
                "beside its state file (.pulumi/stacks/<project>/dev.json.attrs) left that sidecar empty; the state " +
                "file itself is whole. Delete the empty sidecars in the backend's directory (PULUMI_BACKEND_URL, by " +
                "default .pulumi-state), which the backend can do without: `find <directory>/.pulumi -name '*.attrs' " +
                "-empty -delete`. Then run again with --refresh: npm run up -- dev --refresh",
        );
        expect(explainFailure(new Error("reading the chart: unexpected EOF"), {}, "dev")).toBe(
            "The operation failed; the engine's output above says why.",
        );
    });

    test("any other failure points at the engine's own output", () => {
        expect(explainFailure(new Error("error: 1 resource failed"), {})).toBe(
            "The operation failed; the engine's output above says why.",
        );
    });
});
