import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = new URL("..", import.meta.url).pathname;

/** The paths the contributors' guide's Layout tree names, rebuilt from its indentation (two spaces a level). */
function layoutPaths(): string[] {
    const guide = readFileSync(join(ROOT, "docs/contributing.md"), "utf8");
    const block = /## Layout\n\n```\n([\s\S]*?)```/.exec(guide)?.[1] ?? "";
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

describe("the contributors' guide's layout and the tree agree", () => {
    test("every path it names exists", () => {
        expect(layoutPaths().filter((path) => !existsSync(join(ROOT, path)))).toEqual([]);
    });

    test("every source file of components/ is named, one hop from the guide", () => {
        const named = new Set(layoutPaths());
        expect(filesUnder("components").filter((file) => !named.has(file))).toEqual([]);
    });
});

describe("the contributors' guide says where each part is tested", () => {
    /** Each row of the guide's table: the sources it names (a bare file name is in the previous path's folder) and its test files. */
    function testedParts(): { sources: string[]; tests: string[] }[] {
        const guide = readFileSync(join(ROOT, "docs/contributing.md"), "utf8");
        const section = /### Where each part is tested\n([\s\S]*?)\n## /.exec(guide)?.[1] ?? "";
        return section
            .split("\n")
            .filter((line) => line.startsWith("| `"))
            .map((line) => {
                const [named = [], tests = []] = line.split(" | ").map((cell) => [...cell.matchAll(/`([^`]+)`/g)]);
                let folder = "";
                const sources = named.map(([, path = ""]) => {
                    if (!path.includes("/")) return `${folder}${path}`;
                    folder = path.slice(0, path.lastIndexOf("/") + 1);
                    return path;
                });
                return { sources, tests: tests.map(([, path = ""]) => path) };
            });
    }

    test("every source file of components/ is in a row (types-only files aside), and every test it names exists", () => {
        const rows = testedParts();
        const named = rows.flatMap((row) => row.sources);
        const covered = (file: string) =>
            named.some((path) => path === file || (path.endsWith("*.ts") && file.startsWith(path.slice(0, -4))));
        const typesOnly = ["components/app/args.ts", "components/index.ts"];
        expect(filesUnder("components").filter((file) => !typesOnly.includes(file) && !covered(file))).toEqual([]);
        expect(rows.flatMap((row) => row.tests).filter((test) => !existsSync(join(ROOT, test)))).toEqual([]);
    });
});

describe("the README's stand-in table and the cluster host agree", () => {
    /** The first column of the README's one table of stand-ins and shortcuts. */
    function standIns(): string[] {
        const readme = readFileSync(join(ROOT, "README.md"), "utf8");
        const section = /## Stand-ins and shortcuts\n([\s\S]*?)(?:\n## |$)/.exec(readme)?.[1] ?? "";
        return section
            .split("\n")
            .filter((line) => line.startsWith("| ") && !line.startsWith("| ---") && !line.startsWith("| stand-in"))
            .map((line) => line.split(" | ")[0] ?? "");
    }

    test("every webhook the cluster host answers without a check has its row, naming the field manager it writes under", async () => {
        const { UNCHECKED_WEBHOOKS } = await import("../toolchain/host/admission.ts");
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

describe("the README is a front page", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");

    test("under 250 lines", () => {
        expect(readme.split("\n").length).toBeLessThan(250);
    });

    test("it links every guide in docs/, and every link of theirs and its leads to a file, and a heading there", () => {
        const guides = readdirSync(join(ROOT, "docs")).filter((file) => file.endsWith(".md"));
        for (const guide of guides) expect(readme, guide).toContain(`](docs/${guide}`);
        const slug = (heading: string) =>
            heading
                .replace(/^#+\s*/, "")
                .toLowerCase()
                .replace(/[^\w\- ]/g, "")
                .replaceAll(" ", "-");
        const headings = (file: string) =>
            readFileSync(join(ROOT, file), "utf8")
                .split("\n")
                .filter((line) => line.startsWith("#"))
                .map(slug);
        for (const file of ["README.md", ...guides.map((guide) => `docs/${guide}`)]) {
            const text = readFileSync(join(ROOT, file), "utf8");
            for (const [, path = ""] of text.matchAll(/\]\(([^)#\s:]+)(?:#[^)\s]*)?\)/g)) {
                expect(existsSync(join(ROOT, dirname(file), path)), `${file} → ${path}`).toBe(true);
            }
            for (const [, target = "", anchor = ""] of text.matchAll(/\]\(([^)#\s]*\.md)?#([^)\s]+)\)/g)) {
                const linked = target === "" ? file : join(dirname(file), target);
                expect(headings(linked), `${file} → ${target}#${anchor}`).toContain(anchor);
            }
        }
    });
});
