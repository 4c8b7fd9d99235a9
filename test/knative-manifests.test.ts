import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { readPublishedManifest, splitManifest } from "../components/platform/knative-manifests.ts";
import {
    KNATIVE_RELEASES,
    type KnativeManifest,
    knativeManifests,
    manifestUrl,
} from "../components/platform/versions.ts";
import { UPSTREAM_MIRROR } from "../e2e/mirror/index.ts";

const copies = () => mkdtempSync(join(tmpdir(), "manifest-copies-"));

const manifest = (crds: boolean): KnativeManifest => ({
    repository: "knative/serving",
    version: "1.23.0",
    file: "serving-core.yaml",
    crds,
});

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.com
spec:
  group: example.com
  names:
    kind: Thing`;

// An object of the CRD's kind, and one of another group's kind of the same name, which stays in the ConfigFile.
const THING = `apiVersion: example.com/v1
kind: Thing
metadata:
  name: a-thing
  namespace: knative-serving`;
const OTHER_THING = THING.replace("example.com/v1", "other.example.org/v1");

// Written as upstream writes it, with what a re-serialization could change: a comment, a plain `yes`, quoting.
const CONFIG_MAP = `# Copyright The Knative Authors
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-things
  namespace: knative-serving
data:
  enabled: yes
  _example: |
    # a block kept as written
    port: "8080"`;

describe("a Knative manifest split for its CrdSet and its ConfigFile", () => {
    test("the CRDs go to the set, objects of their kinds apart, and the rest to a copy of each document's text", () => {
        const { crds, ownResources, rest } = splitManifest(
            [CONFIG_MAP, THING, CRD, OTHER_THING, ""].join("\n---\n"),
            manifest(true),
            copies(),
        );
        expect(crds).toEqual([
            {
                apiVersion: "apiextensions.k8s.io/v1",
                kind: "CustomResourceDefinition",
                metadata: { name: "things.example.com" },
                spec: { group: "example.com", names: { kind: "Thing" } },
            },
        ]);
        expect(ownResources).toEqual([
            {
                apiVersion: "example.com/v1",
                kind: "Thing",
                metadata: { name: "a-thing", namespace: "knative-serving" },
            },
        ]);
        expect(readFileSync(rest, "utf8")).toBe(`${CONFIG_MAP}\n---\n${OTHER_THING}\n`);
    });

    test("the copy is named by its content: the same manifest gives the same path, another a new one", () => {
        const directory = copies();
        const first = splitManifest(`${CONFIG_MAP}\n---\n${CRD}`, manifest(true), directory).rest;
        expect(splitManifest(`${CRD}\n---\n${CONFIG_MAP}`, manifest(true), directory).rest).toBe(first);
        const changed = splitManifest(`${CONFIG_MAP.replace("yes", "no")}\n---\n${CRD}`, manifest(true), directory);
        expect(changed.rest).not.toBe(first);
        expect(first).toMatch(new RegExp(`^${directory}/[0-9a-f]{64}\\.yaml$`));
    });

    test("a manifest whose CRDs disagree with its flag is refused, saying what to set", () => {
        expect(() => splitManifest(CONFIG_MAP, manifest(true), copies())).toThrow(
            "knative/serving 1.23.0 serving-core.yaml ships 0 CRDs, but its crds flag in components/platform/versions.ts is true: set it to false",
        );
        expect(() => splitManifest(`${CONFIG_MAP}\n---\n${CRD}`, manifest(false), copies())).toThrow(
            "knative/serving 1.23.0 serving-core.yaml ships 1 CRDs, but its crds flag in components/platform/versions.ts is false: set it to true",
        );
    });

    test("every release manifest's flag agrees with the real manifest in the upstream mirror", async () => {
        const checked: string[] = [];
        for (const release of Object.values(KNATIVE_RELEASES)) {
            for (const published of Object.values(knativeManifests(release))) {
                const location = manifestUrl(join(UPSTREAM_MIRROR, "knative"), published);
                // eventing-kafka-broker.yaml (the Kafka data plane) has no real copy here: see e2e/mirror.
                if (!existsSync(location)) continue;
                const { crds, ownResources } = splitManifest(
                    await readPublishedManifest(location),
                    published,
                    copies(),
                );
                const own = ownResources.map((object) => ` ${object.kind ?? ""}`).join("");
                checked.push(`${published.file} ${published.version}: ${crds.length}${own}`);
            }
        }
        expect(checked.sort()).toEqual([
            "eventing-core.yaml 1.22.2: 17",
            "eventing-core.yaml 1.23.0: 17",
            "eventing-kafka-controller.yaml 1.22.0: 5",
            "eventing-kafka-controller.yaml 1.23.0: 5",
            "eventing-kafka-source.yaml 1.22.0: 0",
            "eventing-kafka-source.yaml 1.23.0: 0",
            "in-memory-channel.yaml 1.22.2: 1",
            "in-memory-channel.yaml 1.23.0: 1",
            "mt-channel-broker.yaml 1.22.2: 0",
            "mt-channel-broker.yaml 1.23.0: 0",
            "net-istio.yaml 1.22.0: 0",
            "net-istio.yaml 1.23.0: 0",
            "serving-core.yaml 1.22.1: 12 Certificate Image",
            "serving-core.yaml 1.23.0: 12 Certificate Image",
            "serving-hpa.yaml 1.22.1: 0",
            "serving-hpa.yaml 1.23.0: 0",
        ]);
    });

    test("a mirror directory is read from disk, a path or a file:// URL alike", async () => {
        const { rest } = splitManifest(CONFIG_MAP, manifest(false), copies());
        expect(await readPublishedManifest(rest)).toBe(`${CONFIG_MAP}\n`);
        expect(await readPublishedManifest(`file://${rest}`)).toBe(`${CONFIG_MAP}\n`);
        await expect(readPublishedManifest(`${rest}.missing`)).rejects.toThrow(/ENOENT/);
    });
});
