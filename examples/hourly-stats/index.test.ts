import { describe, expect, test } from "vitest";
import { KSVC, PING, find, runProgram } from "../../test/harness.ts";
import { validateAllKnative } from "../../test/knative-schemas.ts";
import { platformOutputs } from "../../test/stacks.ts";
import hourlyStats from "./index.ts";

async function run(env: string) {
    const platformStack = `acme/serverless-platform/${env}`;
    const resources = await runProgram(() => hourlyStats(), {
        project: "hourly-stats",
        stack: env,
        config: { "hourly-stats:platformStack": platformStack },
        stackOutputs: { [platformStack]: await platformOutputs(env) },
    });
    expect(validateAllKnative(resources)).toBe(2);
    return resources;
}

describe("the hourly statistics batch", () => {
    test("wakes on the hour, Seoul time, and scales to zero between runs", async () => {
        const resources = await run("dev");
        const annotations = find(resources, KSVC, "hourly-stats").inputs.spec.template.metadata.annotations;
        expect(annotations["autoscaling.knative.dev/min-scale"]).toBe("0");
        expect(annotations["autoscaling.knative.dev/max-scale"]).toBe("1");
        expect(annotations["autoscaling.knative.dev/scale-down-delay"]).toBe("0s");
        expect(find(resources, PING, "hourly-stats-cron-hourly").inputs.spec).toMatchObject({
            schedule: "0 * * * *",
            timezone: "Asia/Seoul",
            data: '{"job":"hourly-stats"}',
            sink: { ref: { kind: "Service", name: "hourly-stats" } },
        });
    });

    test("starts no pod at deploy where the platform allows it, one where it does not", async () => {
        const initialScale = async (env: string) =>
            find(await run(env), KSVC, "hourly-stats").inputs.spec.template.metadata.annotations[
                "autoscaling.knative.dev/initial-scale"
            ];
        expect(await initialScale("dev")).toBe("0");
        expect(await initialScale("prod")).toBe("1");
    });

    test("deploys into the platform's batch namespace", async () => {
        expect(find(await run("staging"), KSVC, "hourly-stats").inputs.metadata.namespace).toBe("games-batch");
    });
});
