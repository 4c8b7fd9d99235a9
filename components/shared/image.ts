/**
 * Container image references, read the way Knative's webhook reads them (go-containerregistry's
 * `name.ParseReference` with weak validation), plus the platform's own rule on top: an image
 * must be pinned, to a digest or to a tag other than "latest". The component, the platform
 * config and the policy pack all ask this module.
 * @see https://pkg.go.dev/github.com/google/go-containerregistry/pkg/name#ParseReference
 */

/** A parsed reference: where the image is, and how it is pinned, if at all. */
export interface ImageReference {
    /** The registry host[:port], or "" for the default registry. */
    registry: string;
    repository: string;
    tag: string | undefined;
    digest: string | undefined;
}

const REPOSITORY_CHARS = /^[a-z0-9_\-./]{2,255}$/;
const TAG_CHARS = /^[A-Za-z0-9_.-]{1,128}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * A registry must be a URI authority that Go's url.Parse reads back as written: characters a
 * host may hold (unreserved, sub-delims, percent escapes, any non-ASCII), then an optional
 * numeric port. No user info.
 */
const REGISTRY = /^(?:[A-Za-z0-9\-._~!$&'()*+,;="<>[\]]|%[0-9A-Fa-f]{2}|[^\p{ASCII}])*(?::\d*)?$/u;

/** Splits `[registry/]repository`: the first part is a registry when it has a '.' or a ':'. */
function repositoryOf(name: string): { registry: string; repository: string } | string {
    const slash = name.indexOf("/");
    const first = slash < 0 ? "" : name.slice(0, slash);
    const [registry, repository] =
        first.includes(".") || first.includes(":") ? [first, name.slice(slash + 1)] : ["", name];
    if (!REPOSITORY_CHARS.test(repository)) {
        return `the repository "${repository}" must be 2 to 255 of a-z, 0-9, '_', '-', '.', '/'`;
    }
    if (!REGISTRY.test(registry)) return `the registry "${registry}" must be a host name with an optional port`;
    return { registry, repository };
}

/** Reads `name[:tag]`: the tag is what follows the last ':' when no '/' follows it. */
function tagged(name: string): { base: string; tag: string | undefined } {
    const colon = name.lastIndexOf(":");
    if (colon < 0 || name.slice(colon + 1).includes("/")) return { base: name, tag: undefined };
    return { base: name.slice(0, colon), tag: name.slice(colon + 1) };
}

/** Parses an image reference as Knative does; returns why it cannot when it cannot. */
export function parseImageReference(image: string): ImageReference | { error: string } {
    if (image === "") return { error: "the reference is empty" };
    const at = image.split("@");
    if (at.length > 2) return { error: "it has more than one '@'" };
    const [name = "", digest] = at;
    if (digest !== undefined && !DIGEST.test(digest)) {
        return { error: "the digest after '@' must be sha256: and 64 lowercase hex characters" };
    }
    const { base, tag } = tagged(name);
    if (tag !== undefined && !TAG_CHARS.test(tag)) {
        return { error: `the tag "${tag}" must be 1 to 128 of letters, digits, '_', '.', '-'` };
    }
    const repository = repositoryOf(base);
    if (typeof repository === "string") return { error: repository };
    return { ...repository, tag, digest };
}

/**
 * Where an image lives, as `registry/repository` with Docker's defaults written out (`busybox` is
 * `docker.io/library/busybox`), or undefined when the reference cannot be parsed.
 */
export function imageLocation(image: string): string | undefined {
    const reference = parseImageReference(image);
    if ("error" in reference) return undefined;
    const registry = reference.registry === "" ? "docker.io" : reference.registry;
    const official = registry === "docker.io" && !reference.repository.includes("/");
    return `${registry}/${official ? "library/" : ""}${reference.repository}`;
}

/** Whether an image lives under one of the registry prefixes (`quay.io/prometheus` holds `quay.io/prometheus/node-exporter`). */
export function imageFromRegistries(image: string, registries: readonly string[]): boolean {
    const location = imageLocation(image);
    return (
        location !== undefined &&
        registries.some((prefix) => location === prefix || location.startsWith(`${prefix.replace(/\/$/, "")}/`))
    );
}

/** How an image is pinned, or why the platform refuses it. */
export type ImagePin =
    { kind: "digest"; digest: string } | { kind: "tag"; tag: string } | { kind: "refused"; reason: string };

/**
 * The platform's rule: an image Knative can parse, pinned by digest (best: immutable) or by an
 * explicit tag other than "latest", which moves under a running revision.
 */
export function imagePin(image: string): ImagePin {
    const reference = parseImageReference(image);
    if ("error" in reference)
        return { kind: "refused", reason: `is not an image reference Knative can parse (${reference.error})` };
    if (reference.digest !== undefined) return { kind: "digest", digest: reference.digest };
    if (reference.tag === undefined) {
        return {
            kind: "refused",
            reason: 'must be pinned to a tag or a digest ("repo:1.4.2" or "repo@sha256:…"); untagged means the moving "latest"',
        };
    }
    if (reference.tag === "latest") {
        return { kind: "refused", reason: 'must not use the moving tag "latest"; pin a version tag or a digest' };
    }
    return { kind: "tag", tag: reference.tag };
}
