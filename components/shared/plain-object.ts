import * as pulumi from "@pulumi/pulumi";

/** A plain object to walk key by key: not an array, and not an output still to be resolved (its keys are the SDK's). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value) && !pulumi.Output.isInstance(value);
}
