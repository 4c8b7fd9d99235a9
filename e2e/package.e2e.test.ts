/**
 * The package app teams install: `npm pack` builds it (`prepare`), the tarball holds the built
 * JavaScript and its types, and an app stack that installs it type-checks against those types and
 * runs under Pulumi's mocks with the package's own checks. No registry is reachable at test time:
 * the tarball is unpacked as npm unpacks it into the app's node_modules, and the package's
 * dependencies are this repository's installed ones.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolchain } from "../toolchain/toolchain.ts";
import { REPO } from "./world.ts";

const run = (command: string, args: string[], cwd: string) =>
    execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** An app stack as a team writes it, with a Knative-refused argument when `bad` is set. */
const appStack = (bad: boolean) => `import * as pulumi from "@pulumi/pulumi";
import { ServerlessService } from "serverless-platform";

const api = new ServerlessService("orders", {
    namespace: "games-web",
    image: "registry.example.com/games/orders:1.4.0",
    runtime: "generic",
    scaling: { minScale: 0, maxScale: ${bad ? "0" : "4"} },
    triggers: { cron: [{ name: "nightly", schedule: "0 3 * * *" }] },
});
export const url: pulumi.Output<string> = api.url;
`;

/** Runs the app stack under the SDK's mocks and prints each registered resource's type and name. */
const mockRunner = `import * as pulumi from "@pulumi/pulumi";

const registered = [];
await pulumi.runtime.setMocks(
    {
        newResource: (args) => {
            registered.push(\`\${args.type} \${args.name}\`);
            return { id: \`\${args.name}-id\`, state: args.inputs };
        },
        call: (args) => args.inputs,
    },
    "orders",
    "dev",
);
try {
    await import("./index.ts");
    // Registrations are asynchronous; the SDK's disconnect returns once every one has reached the mocks.
    await pulumi.runtime.disconnect();
    console.log(JSON.stringify(registered));
} catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    process.exitCode = 1;
}
`;

describe("the npm package", () => {
    let files: string[];
    let app: string;

    beforeAll(() => {
        const scratch = mkdtempSync(join(tmpdir(), "serverless-platform-package-"));
        const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", scratch], REPO)) as {
            filename: string;
            files: { path: string }[];
        }[];
        if (packed === undefined) throw new Error("npm pack reported no package");
        files = packed.files.map((file) => file.path);
        app = join(scratch, "orders");
        const installed = join(app, "node_modules", "serverless-platform");
        mkdirSync(installed, { recursive: true });
        run("tar", ["-xzf", join(scratch, packed.filename), "--strip-components=1", "-C", installed], scratch);
        const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
            dependencies: Record<string, string>;
        };
        for (const dependency of Object.keys(manifest.dependencies)) {
            mkdirSync(join(app, "node_modules", dependency, ".."), { recursive: true });
            symlinkSync(join(REPO, "node_modules", dependency), join(app, "node_modules", dependency));
        }
        writeFileSync(join(app, "package.json"), JSON.stringify({ name: "orders", type: "module", private: true }));
        writeFileSync(
            join(app, "tsconfig.json"),
            JSON.stringify({
                compilerOptions: {
                    module: "nodenext",
                    target: "es2024",
                    strict: true,
                    noEmit: true,
                    allowImportingTsExtensions: true,
                    types: [],
                },
                include: ["index.ts"],
            }),
        );
        writeFileSync(join(app, "run.mjs"), mockRunner);
    }, 300_000);

    test("it is publishable, and npm publish refuses the public registry before anything leaves the machine", () => {
        const manifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { private?: boolean };
        expect(manifest.private).toBeUndefined();
        let refused = "";
        try {
            execFileSync("npm", ["publish", "--dry-run"], {
                cwd: REPO,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                env: { ...process.env, NPM_CONFIG_REGISTRY: "https://registry.npmjs.org/" },
            });
        } catch (error) {
            refused = String((error as { stderr?: string }).stderr);
        }
        expect(refused).toContain(
            "serverless-platform is published to the company's registry only, not to https://registry.npmjs.org/",
        );
    });

    test("npm pack builds it: the tarball holds the JavaScript and the types of every module, and no TypeScript source", () => {
        expect(files).toEqual(
            expect.arrayContaining([
                "package.json",
                "dist/components/index.js",
                "dist/components/index.d.ts",
                "dist/components/app/serverless-service.js",
                "dist/components/app/serverless-service.d.ts",
            ]),
        );
        expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    });

    test("an app stack that installs it type-checks against its types and runs under mocks", () => {
        writeFileSync(join(app, "index.ts"), appStack(false));
        run(process.execPath, [join(REPO, "node_modules", "typescript", "bin", "tsc"), "-p", "."], app);
        const registered = JSON.parse(run(process.execPath, ["run.mjs"], app)) as string[];
        expect(registered).toEqual(
            expect.arrayContaining([
                "serverless-platform:app:ServerlessService orders",
                "kubernetes:serving.knative.dev/v1:Service orders",
                "kubernetes:sources.knative.dev/v1:PingSource orders-cron-nightly",
            ]),
        );
    });

    test("a bad argument fails in the installed package with the component's own message", () => {
        writeFileSync(join(app, "index.ts"), appStack(true));
        let said = "";
        try {
            run(process.execPath, ["run.mjs"], app);
        } catch (error) {
            said = String((error as { stderr?: string }).stderr);
        }
        expect(said).toMatch(/ServerlessService "orders".*scaling\.maxScale/s);
    });
});

describe("the component package", () => {
    test("`pulumi package get-schema ./provider`, as the app teams' guide gives it, prints ServerlessService's schema (through the toolchain's Node host)", () => {
        const { pulumi, pulumiRoot } = toolchain("engine");
        const schema = JSON.parse(
            execFileSync(pulumi, ["package", "get-schema", "./provider"], {
                cwd: REPO,
                encoding: "utf8",
                stdio: ["ignore", "pipe", "pipe"],
                env: {
                    ...process.env,
                    // The CLI finds the language host beside itself; nothing is downloaded.
                    PATH: `${join(pulumiRoot, "bin")}:${process.env.PATH ?? ""}`,
                    PULUMI_HOME: mkdtempSync(join(tmpdir(), "serverless-platform-pulumi-home-")),
                    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
                    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
                    PULUMI_SKIP_UPDATE_CHECK: "true",
                },
            }),
        ) as { name: string; resources: Record<string, { isComponent?: boolean; requiredInputs?: string[] }> };
        expect(schema.name).toBe("serverless-platform");
        expect(schema.resources["serverless-platform:index:ServerlessService"]).toMatchObject({
            isComponent: true,
            requiredInputs: expect.arrayContaining(["namespace", "image"]),
        });
    }, 300_000);
});
