import { describe, expect, test } from "vitest";
import platform from "../index.ts";
import { runProgram } from "./harness.ts";
import { STACKS, platformOutputs, stackConfig } from "./stacks.ts";

describe("the platform program, per environment", () => {
    test.each(STACKS)("%s: the stack file is read, checked and exported for app stacks", async (env) => {
        const outputs = await platformOutputs(env);
        expect(outputs.environment).toBe(env);
        expect(outputs.appNamespaces).toEqual(["games-web", "games-batch"]);
        expect(outputs.knativeLimits).toEqual({
            maxScaleLimit: { dev: 5, staging: 20, prod: 100 }[env],
            allowZeroInitialScale: env !== "prod",
            containerConcurrencyMaxLimit: 1000,
        });
    });

    test("environments differ in config only: every stack file sets the same keys", () => {
        const keys = STACKS.map((env) => Object.keys(stackConfig(env)).sort());
        expect(keys[1]).toEqual(keys[0]);
        expect(keys[2]).toEqual(keys[0]);
    });
});

describe("a bad stack config fails with a message naming the key, the value and the rule", () => {
    const S = 'Stack config "serverless-platform"';
    test.each([
        [
            "an unknown key",
            { "serverless-platform:maxScaleLimt": "5" },
            `${S}: maxScaleLimt is not a known key; known keys: environment, domain, appNamespaces, maxScaleLimit, allowZeroInitialScale, containerConcurrencyMaxLimit (got "maxScaleLimt")`,
        ],
        [
            "an unknown environment",
            { "serverless-platform:environment": "qa" },
            `${S}: environment must be one of dev, staging, prod (got "qa")`,
        ],
        [
            "a bad domain",
            { "serverless-platform:domain": "Games.Example" },
            `${S}: domain must be a lowercase DNS domain such as "dev.games.example.com" (got "Games.Example")`,
        ],
        [
            "no namespaces",
            { "serverless-platform:appNamespaces": "[]" },
            `${S}: appNamespaces must be a non-empty list of namespace names (got [])`,
        ],
        [
            "a system namespace",
            { "serverless-platform:appNamespaces": '["knative-serving"]' },
            `${S}: appNamespaces entries must be DNS-1123 labels outside kube-* and knative-* (got "knative-serving")`,
        ],
        [
            "a negative limit",
            { "serverless-platform:maxScaleLimit": "-1" },
            `${S}: maxScaleLimit must be a whole number ≥ 0 (got -1)`,
        ],
    ])("%s", async (_, override, message) => {
        const registered = await runProgram(
            () => {
                expect(() => platform()).toThrow(message);
            },
            { config: { ...stackConfig("dev"), ...override } },
        );
        expect(registered.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
    });
});
