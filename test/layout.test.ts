import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = new URL("..", import.meta.url).pathname;

/** The paths the README's Layout tree names, rebuilt from its indentation (two spaces a level). */
function layoutPaths(): string[] {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /## Layout\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const parents: string[] = [];
    return block
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
            const depth = (line.length - line.trimStart().length) / 2;
            const name = line.trim().split(/\s+/)[0] ?? "";
            parents.length = depth;
            const path = [...parents, name].join("");
            parents.push(name);
            return path;
        });
}

/** Every file under `dir`, as a path from the repository root. */
function filesUnder(dir: string): string[] {
    return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(ROOT.length));
}

describe("the README's layout and the tree agree", () => {
    test("every path it names exists", () => {
        expect(layoutPaths().filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
    });

    test("every source file of components/ is named, one hop from the README", () => {
        const named = new Set(layoutPaths());
        expect(filesUnder("components").filter((file) => !named.has(file))).toEqual([]);
    });
});

describe("the README's stand-in table and the cluster host agree", () => {
    /** The first column of the README's one table of stand-ins and shortcuts. */
    function standIns(): string[] {
        const readme = readFileSync(join(ROOT, "README.md"), "utf8");
        const section = /### Stand-ins and shortcuts\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
        return section
            .split("\n")
            .filter((line) => line.startsWith("| ") && !line.startsWith("| ---") && !line.startsWith("| stand-in"))
            .map((line) => line.split(" | ")[0] ?? "");
    }

    test("every webhook the cluster host answers without a check has its row, naming the field manager it writes under", async () => {
        const { UNCHECKED_WEBHOOKS } = await import("../toolchain/cluster-host.ts");
        const rows = standIns();
        expect(rows.length).toBeGreaterThan(10);
        for (const webhook of UNCHECKED_WEBHOOKS) {
            expect(
                rows.filter((row) => row.includes(`field manager \`${webhook.upstream}\``)),
                webhook.service,
            ).toHaveLength(1);
        }
    });
});
