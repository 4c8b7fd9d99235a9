/**
 * The component package's `ServerlessService`, whose arguments (args.ts, generated from the TypeScript
 * component's) are the package's schema. A schema has no unions of literals or of shapes, so the arguments
 * differ from the TypeScript component's where those have them: string choices are strings (checked by the
 * component as in TypeScript), `env` takes plain values and `envFrom` the Secret and ConfigMap references,
 * `startupProbe: false` is `disableStartupProbe: true`, and a dead-letter sink is a URI (`deadLetterSink`)
 * or a Knative Service (`deadLetterService`). This file turns them back into the TypeScript shapes.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ServerlessServiceArgs as TypedArgs } from "../components/app/args.ts";
import { ServerlessService as TypedServerlessService } from "../components/app/serverless-service.ts";
import { renderServerlessService } from "../components/app/render.ts";
import { Problems } from "../components/shared/problems.ts";
import type { Delivery, ServerlessServiceArgs } from "./args.ts";

/**
 * An app run serverless on the platform's Knative: the TypeScript `ServerlessService`, for
 * app stacks in any Pulumi language. Its child is that component, with everything it makes.
 */
export class ServerlessService extends pulumi.ComponentResource {
    /** The service's URL. */
    public readonly url: pulumi.Output<string>;
    /** The Knative Service's name. */
    public readonly serviceName: pulumi.Output<string>;
    public readonly namespace: pulumi.Output<string>;
    /** The newest revision that became ready. */
    public readonly latestReadyRevisionName: pulumi.Output<string>;
    /** URL of each traffic tag. */
    public readonly tagUrls: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ServerlessServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        // Refused before anything is registered, as the TypeScript component refuses.
        const typed = typedArgs(name, args);
        super("serverless-platform:index:ServerlessService", name, {}, opts);
        const service = new TypedServerlessService(name, typed, { parent: this });
        this.url = service.url;
        this.serviceName = service.serviceName;
        this.namespace = service.namespace;
        this.latestReadyRevisionName = service.latestReadyRevisionName;
        this.tagUrls = service.tagUrls;
        this.registerOutputs({
            url: this.url,
            serviceName: this.serviceName,
            namespace: this.namespace,
            latestReadyRevisionName: this.latestReadyRevisionName,
            tagUrls: this.tagUrls,
        });
    }
}

/**
 * The TypeScript component's arguments. The few shapes a schema cannot say are put back; string
 * choices pass as they are, for the component to check and name as it does in TypeScript.
 */
function typedArgs(name: string, args: ServerlessServiceArgs): TypedArgs {
    const problems = new Problems(`ServerlessService "${name}"`);
    const { envFrom = {}, disableStartupProbe, triggers, ...rest } = args;
    for (const variable of Object.keys(envFrom)) {
        if (args.env !== undefined && variable in args.env) {
            problems.add(
                `envFrom.${variable}`,
                "is also set in env: set each variable in one of them",
                envFrom[variable],
            );
        }
    }
    if (disableStartupProbe === true && args.startupProbe !== undefined) {
        problems.add("disableStartupProbe", "cannot be true while startupProbe is set", disableStartupProbe);
    }
    const delivery = (at: string, given: Delivery | undefined) => {
        if (given === undefined) return undefined;
        const { deadLetterSink, deadLetterService, ...settings } = given;
        if (deadLetterSink !== undefined && deadLetterService !== undefined) {
            problems.add(`${at}.deadLetterService`, "cannot be set together with deadLetterSink", deadLetterService);
        }
        return {
            ...settings,
            deadLetterSink: deadLetterService !== undefined ? { service: deadLetterService } : deadLetterSink,
        };
    };
    const typedTriggers = triggers && {
        ...triggers,
        kafka: triggers.kafka?.map((t, i) => ({
            ...t,
            delivery: delivery(`triggers.kafka[${i}].delivery`, t.delivery),
        })),
        broker: triggers.broker?.map((t, i) => ({
            ...t,
            delivery: delivery(`triggers.broker[${i}].delivery`, t.delivery),
        })),
    };
    problems.throwIfAny();
    const typed = {
        ...rest,
        env: { ...args.env, ...envFrom },
        ...(disableStartupProbe === true ? { startupProbe: false } : {}),
        ...(typedTriggers === undefined ? {} : { triggers: typedTriggers }),
    } as TypedArgs;
    // The TypeScript component's own checks, before this component registers.
    renderServerlessService(name, typed);
    return typed;
}
