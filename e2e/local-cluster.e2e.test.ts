/**
 * The local cluster's life cycle, as `npm run cluster` drives it: stopped, it reports so; started
 * again, it comes back on the same address with its data.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { kube } from "../toolchain/kube-api.ts";
import { localClusterStatus, startLocalCluster, stopLocalCluster } from "../toolchain/local-cluster.ts";

const dir = join(mkdtempSync(join(tmpdir(), "serverless-platform-local-")), "cluster");

afterAll(async () => {
    await stopLocalCluster(dir, { remove: true });
});

test("stop keeps the data; start brings the same cluster back", async () => {
    expect(await localClusterStatus(dir)).toEqual({ state: "absent" });
    const first = await startLocalCluster(dir);
    await kube(first, "POST", "/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "kept" },
    });

    await stopLocalCluster(dir);
    expect(await localClusterStatus(dir)).toEqual({ state: "stopped", api: first.api });

    const again = await startLocalCluster(dir);
    expect(again.api).toBe(first.api);
    expect(await localClusterStatus(dir)).toEqual({ state: "running", api: first.api });
    const namespace = await kube<{ metadata: { name: string } }>(again, "GET", "/api/v1/namespaces/kept");
    expect(namespace.metadata.name).toBe("kept");
});
