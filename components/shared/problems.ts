import * as pulumi from "@pulumi/pulumi";

/**
 * Thrown when a component's arguments break a rule, before any resource is
 * registered (or, for a value only known at deployment, when it resolves). Its
 * message lists every problem found, one per line, each naming the component,
 * the argument, the rule and the bad value. A Pulumi RunError: the engine shows
 * the message, not a stack trace.
 */
export class InvalidArgumentsError extends pulumi.RunError {
    override readonly name = "InvalidArgumentsError";
    readonly problems: readonly string[];

    constructor(problems: readonly string[]) {
        super(problems.join("\n"));
        this.problems = problems;
    }
}

/** Renders a bad value for a message: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
    if (value === undefined) return "undefined";
    // JSON has no NaN or Infinity (it writes null); the message shows what was given.
    return typeof value === "number" && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
}

/**
 * Collects the problems of one component's arguments, so that a user sees all
 * of them in one run instead of fixing them one `pulumi up` at a time.
 */
export class Problems {
    private readonly found: string[] = [];
    private readonly subject: string;

    /** @param subject how messages name the component, e.g. `ServerlessService "api"`. */
    constructor(subject: string) {
        this.subject = subject;
    }

    /** Records `<subject>: <field> <rule> (got <value>)`. */
    add(field: string, rule: string, value: unknown): void {
        this.found.push(`${this.subject}: ${field} ${rule} (got ${show(value)})`);
    }

    /**
     * Records a problem unless `value` is one of `allowed`. Takes `unknown`:
     * plain-JavaScript callers and config files can pass anything.
     */
    oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): value is T {
        if ((allowed as readonly unknown[]).includes(value)) {
            return true;
        }
        this.add(field, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`, value);
        return false;
    }

    /** Records a problem that is not about a single value. */
    addMessage(message: string): void {
        this.found.push(`${this.subject}: ${message}`);
    }

    get count(): number {
        return this.found.length;
    }

    /** Every problem recorded so far, one message each. */
    get messages(): readonly string[] {
        return this.found;
    }

    /** Throws an {@link InvalidArgumentsError} listing everything recorded, if anything was. */
    throwIfAny(): void {
        if (this.found.length > 0) {
            throw new InvalidArgumentsError(this.found);
        }
    }

    /**
     * Checks a value that may only be known at deployment time (an Output from
     * another stack, say). A plain value is checked now, with the others; an
     * Output is checked when it resolves, and a bad value then fails the
     * deployment with the same message.
     */
    checkWhenKnown<T>(value: pulumi.Input<T>, check: (known: T, problems: Problems) => void): pulumi.Input<T> {
        if (!pulumi.Output.isInstance(value) && !isPromiseLike(value)) {
            check(value, this);
            return value;
        }
        return pulumi.output(value).apply((known): T => {
            const late = new Problems(this.subject);
            check(known as T, late);
            late.throwIfAny();
            return known as T;
        });
    }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
    return typeof value === "object" && value !== null && "then" in value && typeof value.then === "function";
}
