import { describe, expect, test } from "vitest";
import { affectedStacks } from "../scripts/affected-stacks.ts";

const names = (files: string[]) => affectedStacks(files).map((s) => `${s.workDir}:${s.stack}`);

describe("a pull request previews only the stacks it changes", () => {
    test("a stack file: that environment of the platform", () => {
        expect(names(["stacks/Pulumi.staging.yaml"])).toEqual([".:staging"]);
    });

    test("shared code or the policy pack: every platform and example stack", () => {
        const all = names(["components/platform/istio.ts"]);
        expect(all).toHaveLength(9);
        expect(all).toContain(".:prod");
        expect(all).toContain("examples/spring-api:dev");
        expect(names(["policy/policies.ts", "package-lock.json"])).toEqual(all);
    });

    test("an example: its own stacks; one of its stack files: that stack", () => {
        expect(names(["examples/hourly-stats/index.ts"])).toEqual([
            "examples/hourly-stats:dev",
            "examples/hourly-stats:staging",
            "examples/hourly-stats:prod",
        ]);
        expect(names(["examples/spring-api/Pulumi.prod.yaml"])).toEqual(["examples/spring-api:prod"]);
    });

    test("docs and tests: nothing", () => {
        expect(
            names([
                "README.md",
                "test/platform.test.ts",
                "examples/spring-api/index.test.ts",
                ".github/workflows/preview.yml",
            ]),
        ).toEqual([]);
    });

    test("no stack twice", () => {
        expect(names(["stacks/Pulumi.dev.yaml", "stacks/Pulumi.dev.yaml", "index.ts"])).toHaveLength(9);
    });
});
