/**
 * The platform program: `pulumi up --stack <env>` reads the environment's
 * config from stacks/Pulumi.<env>.yaml, checks it, composes the platform's
 * components and exports what app stacks read through a StackReference.
 */
import * as pulumi from "@pulumi/pulumi";
import { readPlatformConfig } from "./components/platform-config.ts";

export default function platform() {
    const prefix = `${pulumi.getProject()}:`;
    const configuredKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length));
    const config = readPlatformConfig(new pulumi.Config(), configuredKeys);

    return {
        environment: config.environment,
        domain: config.domain,
        appNamespaces: config.appNamespaces,
        knativeLimits: config.knativeLimits,
    };
}
