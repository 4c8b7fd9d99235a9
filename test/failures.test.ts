import { describe, expect, test } from "vitest";
import { explainFailure } from "../scripts/failures.ts";

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
                'see README.md, section "Versions, upgrades and mirrors".',
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

    test("any other failure points at the engine's own output", () => {
        expect(explainFailure(new Error("error: 1 resource failed"), {})).toBe(
            "The operation failed; the engine's output above says why.",
        );
    });
});
