/**
 * `ServerlessService` as a Pulumi component package, for app stacks in any Pulumi language (YAML,
 * Python, Go, …). Pulumi's Node language host runs this file as the package's plugin (PulumiPlugin.yaml);
 * it serves the component with Pulumi's component provider, which reads the schema from the
 * TypeScript types of component.ts (`pulumi package get-schema ./provider`).
 *
 * One thing differs from Pulumi's own hosting: an argument that comes from another resource (the
 * platform's limits from a StackReference, say) reaches a package's component as an Output even when
 * its value is known. Such values are resolved before the component is constructed, so that it checks
 * every argument and refuses a bad one before registering anything, as the TypeScript component does.
 * Secret and unknown values stay Outputs.
 */
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { main } from "@pulumi/pulumi/provider/index.js";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental/index.js";
import { ServerlessService } from "./component.ts";

/** Whether an Output's value is known (the SDK keeps this internal; the engine sets it for previews). */
const isKnown = (output: pulumi.Output<unknown>): Promise<boolean> =>
    (output as unknown as { isKnown: Promise<boolean> }).isKnown;

/** A top-level argument as plain value when it is known and not secret; otherwise as it came. */
async function resolved(value: unknown): Promise<unknown> {
    if (!pulumi.Output.isInstance(value)) return value;
    if (!(await isKnown(value)) || (await pulumi.isSecret(value))) return value;
    return new Promise((resolve) => value.apply(resolve));
}

class ServerlessPlatformProvider extends ComponentProvider {
    override async construct(
        name: string,
        type: string,
        inputs: pulumi.Inputs,
        options: pulumi.ComponentResourceOptions,
    ): ReturnType<ComponentProvider["construct"]> {
        const plain: pulumi.Inputs = Object.fromEntries(
            await Promise.all(
                Object.entries(inputs).map(async ([key, value]): Promise<[string, unknown]> => [
                    key,
                    await resolved(value),
                ]),
            ),
        );
        return super.construct(name, type, plain, options);
    }
}

// Served until the engine shuts the plugin down (no top-level await: Node's language host requires this file).
void main(
    new ServerlessPlatformProvider({
        components: [ServerlessService],
        name: "serverless-platform",
        dirname: fileURLToPath(new URL(".", import.meta.url)),
    }),
    process.argv.slice(2),
);
