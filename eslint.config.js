// @ts-check
import eslint from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
    { ignores: ["dist/", "node_modules/", ".pulumi-state/"] },
    eslint.configs.recommended,
    ...tseslint.configs.strictTypeChecked,
    {
        languageOptions: {
            parserOptions: {
                projectService: { allowDefaultProject: ["eslint.config.js", "scripts/require-node.js"] },
                tsconfigRootDir: import.meta.dirname,
            },
        },
        rules: {
            // Pulumi registers resources in constructors: `new X(...)` for its side effect is the idiom.
            "no-new": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
        },
    },
    {
        // Plain JavaScript that any Node runs, before the project's own Node is known: package.json, as it
        // parses, is untyped here.
        files: ["scripts/require-node.js"],
        languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
        rules: { "@typescript-eslint/no-unsafe-member-access": "off" },
    },
    {
        // Policies read resource properties as the engine hands them over: untyped.
        files: ["policy/**", "components/shared/warm/scheduler.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-return": "off",
        },
    },
    {
        // Tests read back untyped engine state.
        files: ["test/**", "e2e/**", "examples/**/*.test.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-return": "off",
            "@typescript-eslint/no-non-null-assertion": "off",
        },
    },
);
