import { describe, expect, test } from "vitest";
import { KSVC, SECRET, TRIGGER, find, runProgram, secretValue } from "../../test/harness.ts";
import { validateAllKnative } from "../../test/knative-schemas.ts";
import { platformOutputs } from "../../test/stacks.ts";
import springApi from "./index.ts";

/** The second release, v2, as a canary beside v1. */
const CANARY = { "spring-api:release": "v2", "spring-api:stableRelease": "v1" };

async function run(config: Record<string, string> = {}) {
    const platformStack = "acme/serverless-platform/dev";
    let outputs: Awaited<ReturnType<typeof springApi>> | undefined;
    const resources = await runProgram(
        async () => {
            outputs = await springApi();
        },
        {
            project: "spring-api",
            config: { "spring-api:platformStack": platformStack, "spring-api:dbPassword": "s3cret", ...config },
            stackOutputs: { [platformStack]: await platformOutputs("dev") },
        },
    );
    expect(validateAllKnative(resources)).toBe(2);
    return { resources, outputs: outputs!, ksvc: find(resources, KSVC, "spring-api") };
}

describe("the Spring Boot API", () => {
    test("JVM preset with one warm instance and the actuator readiness path", async () => {
        const { ksvc } = await run();
        const template = ksvc.inputs.spec.template;
        expect(template.metadata.annotations["autoscaling.knative.dev/min-scale"]).toBe("1");
        expect(template.spec.containers[0].env[0].name).toBe("JAVA_TOOL_OPTIONS");
        expect(template.spec.containers[0].readinessProbe.httpGet.path).toBe("/actuator/health/readiness");
    });

    // Its URL and the canary's URL are Knative's to report: e2e/app-stacks reads them back on the real engine.
    test("the first release takes all traffic", async () => {
        const { ksvc } = await run();
        expect(ksvc.inputs.spec.template.metadata.name).toBe("spring-api-v1");
        expect(ksvc.inputs.spec.traffic).toEqual([{ latestRevision: true, percent: 100 }]);
    });

    test("the next release is a 90/10 canary beside the stable one, with a tag of its own for testing", async () => {
        const { ksvc } = await run(CANARY);
        expect(ksvc.inputs.spec.template.metadata.name).toBe("spring-api-v2");
        expect(ksvc.inputs.spec.traffic).toEqual([
            { revisionName: "spring-api-v1", latestRevision: false, percent: 90, tag: "stable" },
            { latestRevision: true, percent: 10, tag: "canary" },
        ]);
    });

    test("finishing the rollout is one config change", async () => {
        const { ksvc } = await run({ ...CANARY, "spring-api:canaryPercent": "100" });
        expect(ksvc.inputs.spec.traffic).toEqual([{ latestRevision: true, percent: 100 }]);
    });

    test("the database password stays a secret, in a Secret of its own", async () => {
        const { resources, ksvc } = await run();
        expect(secretValue(find(resources, SECRET, "spring-api-env").inputs.stringData)).toEqual({
            SPRING_DATASOURCE_PASSWORD: "s3cret",
        });
        expect(JSON.stringify(ksvc.inputs)).not.toContain("s3cret");
    });

    test("runs for every post-created event on the default broker", async () => {
        const { resources } = await run();
        expect(find(resources, TRIGGER, "spring-api-broker-posts").inputs.spec).toMatchObject({
            broker: "default",
            filter: { attributes: { type: "com.example.post.created" } },
            delivery: { retry: 5, backoffPolicy: "exponential", backoffDelay: "PT0.5S" },
        });
    });
});
