import { describe, expect, test } from "vitest";
import { injectSidecar } from "../toolchain/sidecar-injection.ts";

const review = { apiVersion: "admission.k8s.io/v1", request: { uid: "uid-1" } };

function refusal(answer: string): string {
    const parsed = JSON.parse(answer) as { response: { uid: string; allowed: boolean; status: { message: string } } };
    expect(parsed.response).toMatchObject({ uid: "uid-1", allowed: false });
    return parsed.response.status.message;
}

describe("istiod's injection on the simulated cluster", () => {
    test("names every ConfigMap it cannot read, in the same order whichever read fails first", async () => {
        // The mesh config's read fails at once, the templates' later: the answer must not depend on which is first.
        const read = (name: string) =>
            name === "istio"
                ? Promise.reject(new Error('configmaps "istio" not found'))
                : new Promise<never>((_, reject) =>
                      setImmediate(() => {
                          reject(new Error('configmaps "istio-sidecar-injector" not found'));
                      }),
                  );
        const message = refusal(await injectSidecar("/nonexistent/istio-injector", read, review));
        expect(message).toBe(
            "istiod's ConfigMap istio-system/istio-sidecar-injector, which istiod's chart writes, cannot be read: " +
                'configmaps "istio-sidecar-injector" not found; ' +
                "istiod's ConfigMap istio-system/istio, which istiod's chart writes, cannot be read: " +
                'configmaps "istio" not found',
        );
    });

    test("a missing injector program is a refusal naming it, not a crash", async () => {
        const read = () => Promise.resolve({ data: {} });
        expect(refusal(await injectSidecar("/nonexistent/istio-injector", read, review))).toMatch(
            /^istio-injector failed: .*\/nonexistent\/istio-injector/,
        );
    });
});
