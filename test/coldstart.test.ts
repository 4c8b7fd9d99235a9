import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseTargets, probe, renderTable, summarize } from "../scripts/coldstart.ts";

/** A local service that behaves like a scaled-to-zero one: after `idleMs` without traffic, the next answer takes `coldMs`. */
function coldStartingServer(idleMs: number, coldMs: number): Promise<{ server: Server; url: string }> {
    let last = 0;
    const server = createServer((_, res) => {
        const cold = Date.now() - last >= idleMs;
        last = Date.now();
        setTimeout(() => res.end("ok"), cold ? coldMs : 0);
    });
    return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => {
            resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
        }),
    );
}

describe("the cold-start probe", () => {
    let slow: { server: Server; url: string };
    beforeAll(async () => {
        slow = await coldStartingServer(50, 200);
    });
    afterAll(() => {
        slow.server.close();
    });

    test("waits for cold before each round and times the slow first response", async () => {
        const results = await probe({ slow: slow.url }, 3, { kind: "idle", ms: 80 });
        expect(results.slow).toHaveLength(3);
        for (const sample of results.slow ?? []) {
            // Lower bounds only: the simulated cold start always takes at least this long.
            expect(sample.ttfbMs).toBeGreaterThanOrEqual(195);
            expect(sample.totalMs).toBeGreaterThanOrEqual(sample.ttfbMs);
            expect(sample.status).toBe(200);
        }
        const table = renderTable(results);
        expect(table.split("\n")[0]).toBe(
            "| service | samples | first byte min | first byte median | first byte p95 | total median | total p95 | HTTP errors |",
        );
        expect(table).toMatch(/^\| slow \| 3 \| \d+ ms \| \d+ ms \| \d+ ms \| \d+ ms \| \d+ ms \| 0 \|$/m);
    });

    test("min ≤ median ≤ p95, each one of the samples", () => {
        fc.assert(
            fc.property(
                fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }),
                (values) => {
                    const s = summarize(values);
                    expect(s.min).toBeLessThanOrEqual(s.median);
                    expect(s.median).toBeLessThanOrEqual(s.p95);
                    for (const v of [s.min, s.median, s.p95]) expect(values).toContain(v);
                },
            ),
        );
        expect(summarize([5, 1, 3, 2, 4])).toEqual({ min: 1, median: 3, p95: 5 });
    });

    test("targets are named name=url, or by their URL", () => {
        expect(parseTargets(["jvm=http://a.example.com", "http://b.example.com/x"])).toEqual({
            jvm: "http://a.example.com",
            "http://b.example.com/x": "http://b.example.com/x",
        });
        expect(() => parseTargets(["ftp://x"])).toThrow("--url ftp://x: not an http(s) URL");
    });
});

describe("the app teams' guide's cold-start trade-off table", () => {
    test("is the one the project's code computes", async () => {
        const { tradeoffTable } = await import("../scripts/warm-tradeoff.ts");
        const { readFileSync } = await import("node:fs");
        // Prettier pads Markdown tables; compare cell by cell.
        const cells = (line: string) =>
            line
                .split("|")
                .map((c) => c.trim())
                .map((c) => (/^-+$/.test(c) ? "---" : c));
        const readme = readFileSync(new URL("../docs/app-teams.md", import.meta.url), "utf8")
            .split("\n")
            .map(cells);
        const table = tradeoffTable().split("\n").map(cells);
        const start = readme.findIndex((row) => JSON.stringify(row) === JSON.stringify(table[0]));
        expect(start).toBeGreaterThan(-1);
        expect(readme.slice(start, start + table.length)).toEqual(table);
    });
});
