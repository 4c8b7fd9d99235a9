import { describe, expect, test } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { FIELD_MANAGER_ANNOTATION, oneFieldManager, stackFieldManager } from "../components/shared/field-manager.ts";

const transform = oneFieldManager("serverless-platform/dev");

/** The transform's props for a resource of `type`, or undefined when it leaves the resource as it is. */
async function transformed(type: string, props: Record<string, unknown>, custom = true) {
    const result = await transform({ type, name: "x", custom, props, opts: {} });
    return result?.props;
}

describe("one field manager per stack", () => {
    test("is named after the project and the stack, within Kubernetes' 128 characters", () => {
        expect(stackFieldManager("serverless-platform", "prod")).toBe("serverless-platform/prod");
        expect(stackFieldManager("p".repeat(100), "s".repeat(100))).toHaveLength(128);
    });

    test("every object a chart, a manifest or the program applies names it, beside its own annotations", async () => {
        const daemonSet = {
            metadata: { name: "istio-cni-node", annotations: { "istio.io/rev": "default" } },
            spec: { template: {} },
        };
        expect(await transformed("kubernetes:apps/v1:DaemonSet", daemonSet)).toEqual({
            metadata: {
                name: "istio-cni-node",
                annotations: { "istio.io/rev": "default", [FIELD_MANAGER_ANNOTATION]: "serverless-platform/dev" },
            },
            spec: { template: {} },
        });
        expect(await transformed("kubernetes:serving.knative.dev/v1:Service", { metadata: { name: "api" } })).toEqual({
            metadata: { name: "api", annotations: { [FIELD_MANAGER_ANNOTATION]: "serverless-platform/dev" } },
        });
    });

    test.each([
        ["a patch, which must not own another resource's fields", "kubernetes:core/v1:ConfigMapPatch", true],
        ["a chart (a component: its objects carry the name)", "kubernetes:helm.sh/v4:Chart", false],
        ["the provider", "pulumi:providers:kubernetes", true],
        ["another provider's resource", "random:index/randomPassword:RandomPassword", true],
    ])("%s is left as it is", async (_what, type, custom) => {
        expect(await transformed(type, { metadata: { name: "x" } }, custom)).toBeUndefined();
    });

    test("an object that names its own field manager keeps it", async () => {
        const own = { metadata: { annotations: { [FIELD_MANAGER_ANNOTATION]: "team" } } };
        expect(await transformed("kubernetes:core/v1:ConfigMap", own)).toBeUndefined();
    });

    test("metadata not known yet (an output) is left to the provider", async () => {
        const pending = { metadata: pulumi.output({ name: "x" }) };
        expect(await transformed("kubernetes:core/v1:ConfigMap", pending)).toBeUndefined();
    });
});
