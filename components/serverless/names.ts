/**
 * Name and reference rules that Kubernetes and Knative apply, checked early so
 * that a typo fails `pulumi preview` instead of the admission webhook.
 */

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1035 label: lowercase letters, digits and '-', starting with a letter, at most 63 characters. */
export function isDns1035Label(value: string): boolean {
    return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** A RFC 1123 DNS subdomain, as Kubernetes namespaces and most object names. */
export function isDns1123Label(value: string): boolean {
    return value.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

/** How a container image is pinned. */
export type ImagePin = { kind: "digest"; digest: string } | { kind: "tag"; tag: string };

const DIGEST = /@sha256:[a-f0-9]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Reads how an image reference is pinned: by digest (best: immutable), or by
 * an explicit tag. Returns a reason instead when it is not pinned, or pinned
 * to `latest`, which moves under a running service.
 */
export function imagePin(image: string): ImagePin | { kind: "unpinned"; reason: string } {
    if (image.trim() !== image || image === "" || /\s/.test(image)) {
        return { kind: "unpinned", reason: "must be an image reference without spaces" };
    }
    const digest = DIGEST.exec(image);
    if (digest) {
        return { kind: "digest", digest: digest[0].slice(1) };
    }
    if (image.includes("@")) {
        return { kind: "unpinned", reason: "must use a sha256 digest of 64 hex characters after '@'" };
    }
    const lastSegment = image.slice(image.lastIndexOf("/") + 1);
    const colon = lastSegment.lastIndexOf(":");
    if (colon < 0) {
        return { kind: "unpinned", reason: 'must be pinned to a tag or a digest ("repo:1.4.2" or "repo@sha256:…")' };
    }
    const tag = lastSegment.slice(colon + 1);
    if (!TAG.test(tag)) {
        return { kind: "unpinned", reason: "has a malformed tag (letters, digits, '_', '.', '-', at most 128)" };
    }
    if (tag === "latest") {
        return { kind: "unpinned", reason: 'must not use the moving tag "latest"; pin a version tag or a digest' };
    }
    return { kind: "tag", tag };
}
