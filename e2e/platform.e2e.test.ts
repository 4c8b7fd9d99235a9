/**
 * The platform stack on the real engine and the simulated cluster, per environment, with every
 * upstream source pointed at the mirror fixture (mirror/).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import type * as automation from "@pulumi/pulumi/automation/index.js";
import { engineOutput } from "../toolchain/engine.ts";
import { type Mirror, startMirror } from "./mirror/index.ts";
import { type World, project, stackOf, startWorld, stepRecorder } from "./world.ts";

let world: World;
let mirror: Mirror;

beforeAll(async () => {
    world = await startWorld();
    mirror = await startMirror(join(world.dir, "mirror"));
}, 1_800_000);

afterAll(async () => {
    await mirror.stop();
    await world.stop();
});

describe("dev", () => {
    let stack: automation.Stack;
    test("up succeeds", async () => {
        stack = await stackOf(world, project("."), "dev", {
            configPaths: Object.fromEntries(
                Object.entries(mirror.sources).map(([key, value]) => [`serverless-platform:sources.${key}`, value]),
            ),
        });
        const result = await stack.up(engineOutput);
        expect(result.summary.result).toBe("succeeded");
    }, 1_200_000);
    test("a second preview shows no changes", async () => {
        const recorder = stepRecorder();
        await stack.preview({ onEvent: recorder.onEvent });
        expect(recorder.changed()).toEqual([]);
    }, 600_000);
});
