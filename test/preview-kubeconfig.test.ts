import { describe, expect, test } from "vitest";
import { tokenLifetimeSeconds } from "../scripts/preview-kubeconfig.ts";

describe("npm run preview-kubeconfig -- --hours", () => {
    test("is the token's lifetime in whole hours", () => {
        expect(tokenLifetimeSeconds("720")).toBe(720 * 3600);
    });

    test.each(["0", "1.5", "-2", "a month"])("refuses %s, naming the flag and the value", (hours) => {
        expect(() => tokenLifetimeSeconds(hours)).toThrow(
            `--hours must be a whole number of hours, 1 or more (got "${hours}")`,
        );
    });
});
