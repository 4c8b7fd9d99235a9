import { describe, expect, test } from "vitest";
import { imageFromRegistries, imageLocation, imagePin, parseImageReference } from "../components/shared/image.ts";
import { DEFAULT_SOURCES, UPSTREAM_IMAGE_REGISTRIES } from "../components/platform/versions.ts";

const DIGEST = "sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904f1b9d6f7c1b1d1d5e3c3a9f0";

describe("image references, read as Knative reads them (go-containerregistry, weak validation)", () => {
    test.each([
        [
            "registry.example.com/games/api:1.0.0",
            { registry: "registry.example.com", repository: "games/api", tag: "1.0.0" },
        ],
        ["registry.example.com:5000/api:2", { registry: "registry.example.com:5000", repository: "api", tag: "2" }],
        ["localhost:5000/api:2", { registry: "localhost:5000", repository: "api", tag: "2" }],
        ["api:1.0", { registry: "", repository: "api", tag: "1.0" }],
        [`ghcr.io/acme/api@${DIGEST}`, { registry: "ghcr.io", repository: "acme/api", digest: DIGEST }],
        [`ghcr.io/acme/api:1.0@${DIGEST}`, { repository: "acme/api", tag: "1.0", digest: DIGEST }],
        ["registry.example.com/api:-weird.tag_", { tag: "-weird.tag_" }],
    ])("%s parses", (image, expected) => {
        expect(parseImageReference(image)).toMatchObject(expected);
    });

    test.each([
        [":1.0", "the repository \"\" must be 2 to 255 of a-z, 0-9, '_', '-', '.', '/'"],
        ["registry.example.com/App:1.0", "the repository \"App\" must be 2 to 255 of a-z, 0-9, '_', '-', '.', '/'"],
        ["registry.example.com/äpp:1.0", "the repository \"äpp\" must be 2 to 255 of a-z, 0-9, '_', '-', '.', '/'"],
        ["a:1.0", "the repository \"a\" must be 2 to 255 of a-z, 0-9, '_', '-', '.', '/'"],
        ["api@sha256:abc", "the digest after '@' must be sha256: and 64 lowercase hex characters"],
        ["api:1.0:2.0:x/yy", 'the registry "api:1.0:2.0:x" must be a host name with an optional port'],
        ["user@registry.example.com/api:1@x", "it has more than one '@'"],
        ["api:v1!", "the tag \"v1!\" must be 1 to 128 of letters, digits, '_', '.', '-'"],
        ["", "the reference is empty"],
    ])("%j does not parse: %s", (image, error) => {
        expect(parseImageReference(image)).toEqual({ error });
    });
});

describe("the platform's pinning rule on top", () => {
    test("a digest or a version tag is pinned", () => {
        expect(imagePin(`ghcr.io/acme/api@${DIGEST}`)).toEqual({ kind: "digest", digest: DIGEST });
        expect(imagePin("ghcr.io/acme/api:1.4.2")).toEqual({ kind: "tag", tag: "1.4.2" });
    });

    test.each([
        [
            "ghcr.io/acme/api",
            'must be pinned to a tag or a digest ("repo:1.4.2" or "repo@sha256:…"); untagged means the moving "latest"',
        ],
        ["ghcr.io/acme/api:latest", 'must not use the moving tag "latest"; pin a version tag or a digest'],
        [
            ":1.0",
            "is not an image reference Knative can parse (the repository \"\" must be 2 to 255 of a-z, 0-9, '_', '-', '.', '/')",
        ],
    ])("%j is refused: %s", (image, reason) => {
        expect(imagePin(image)).toEqual({ kind: "refused", reason });
    });
});

describe("where an image lives, for the registry allowlist", () => {
    test.each([
        ["busybox:1.37", "docker.io/library/busybox"],
        ["grafana/grafana:12.1.0", "docker.io/grafana/grafana"],
        ["quay.io/prometheus/node-exporter:v1.9.1", "quay.io/prometheus/node-exporter"],
        [`localhost:5000/api@${DIGEST}`, "localhost:5000/api"],
    ])("%s lives at %s", (image, location) => {
        expect(imageLocation(image)).toBe(location);
    });

    test("a prefix holds the images below it at a path boundary, not a registry that merely starts alike", () => {
        expect(imageFromRegistries("quay.io/prometheus/node-exporter:v1.9.1", ["quay.io/prometheus"])).toBe(true);
        expect(imageFromRegistries("quay.io/prometheus-operator/x:v1", ["quay.io/prometheus"])).toBe(false);
        expect(imageFromRegistries("registry.example.com.evil.io/api:1", ["registry.example.com"])).toBe(false);
        expect(imageFromRegistries("busybox:1.37", ["docker.io/library"])).toBe(true);
        expect(imageFromRegistries(":1.0", ["docker.io"])).toBe(false);
    });

    test("every image the platform pins itself comes from its upstream registries", () => {
        expect(imageFromRegistries(DEFAULT_SOURCES.schedulerImage, UPSTREAM_IMAGE_REGISTRIES)).toBe(true);
        expect(imageFromRegistries(`${DEFAULT_SOURCES.istioImageHub}/proxyv2:1.30.8`, UPSTREAM_IMAGE_REGISTRIES)).toBe(
            true,
        );
    });
});
