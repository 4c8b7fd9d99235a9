import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { engineBackendUrl, ensureFileBackendDirectory } from "../toolchain/engine.ts";

describe("the backend the engine is given", () => {
    test("a file backend writes no metadata sidecars, whose in-place rewrite a killed run can leave empty", () => {
        expect(engineBackendUrl("file:///srv/state")).toBe("file:///srv/state?metadata=skip");
        expect(engineBackendUrl("file:///srv/state?no_tmp_dir=true")).toBe(
            "file:///srv/state?no_tmp_dir=true&metadata=skip",
        );
    });

    test("a file backend URL that chooses its metadata, and any other backend, is used as given", () => {
        expect(engineBackendUrl("file:///srv/state?metadata=")).toBe("file:///srv/state?metadata=");
        expect(engineBackendUrl("s3://platform-state?region=eu-west-1")).toBe("s3://platform-state?region=eu-west-1");
        expect(engineBackendUrl("https://api.pulumi.com")).toBe("https://api.pulumi.com");
    });

    test("a file backend's directory is made without its URL's options; other backends have none", () => {
        const dir = mkdtempSync(join(tmpdir(), "serverless-platform-backend-"));
        try {
            const state = join(dir, "state");
            expect(ensureFileBackendDirectory(`file://${state}?metadata=skip`)).toBe(state);
            expect(existsSync(state)).toBe(true);
            expect(ensureFileBackendDirectory("s3://platform-state")).toBeUndefined();
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
