/**
 * Name, label and number rules that Kubernetes and Knative apply, checked early so that a typo
 * fails `pulumi preview` instead of the admission webhook.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
 */

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A DNS-1035 label: lowercase letters, digits and '-', starting with a letter, at most 63 characters. */
export function isDns1035Label(value: string): boolean {
    return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** A DNS-1123 label, as Kubernetes namespaces: lowercase letters, digits and '-', at most 63 characters. */
export function isDns1123Label(value: string): boolean {
    return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** A DNS-1123 subdomain, as most object names (service accounts among them): dot-separated labels, at most 253. */
export function isDns1123Subdomain(value: string): boolean {
    return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** Why a label key is not one Kubernetes accepts (`[prefix/]name`), or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
    const parts = key.split("/");
    if (parts.length > 2) return "must have at most one '/' (prefix/name)";
    const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
    if (prefix !== undefined && !isDns1123Subdomain(prefix)) {
        return "must have a prefix that is a lowercase DNS subdomain (e.g. example.com/)";
    }
    if (name === undefined || name.length > 63 || !LABEL_NAME.test(name)) {
        return "must have a name of 1 to 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit";
    }
    return undefined;
}

/** Why a label value is not one Kubernetes accepts, or undefined when it is (the empty value is allowed). */
export function labelValueProblem(value: string): string | undefined {
    return value === "" || (value.length <= 63 && LABEL_NAME.test(value))
        ? undefined
        : "must be at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit";
}

/** Largest value of the 32-bit integer fields of Kubernetes and Knative (replicas, probe settings, user ids). */
export const MAX_INT32 = 2_147_483_647;

/** A whole number in [least, 2147483647]: what a 32-bit field (or a Knative scale annotation) can hold. */
export function isInt32(value: number, least = 0): boolean {
    return Number.isInteger(value) && value >= least && value <= MAX_INT32;
}

/** A Kafka bootstrap server as Kafka clients take it: `host:port`. */
export function isHostPort(value: unknown): value is string {
    return typeof value === "string" && /^[^\s:/]+:\d{1,5}$/.test(value);
}
