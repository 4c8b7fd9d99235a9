/**
 * Which versions are supported together, as code. Each rule names its source; at preview the
 * platform checks its pins against the target cluster (the Kubernetes version its API server
 * reports, and the Knative, Istio and Elasticsearch installed there) and refuses an unsupported combination with a
 * message naming both versions, the rule and its source, unless the stack accepts that rule
 * (`compatibility.accept`), which then prints a warning on every preview. A pinned version that
 * a rule has no row for is a warning: the pair is unchecked, not known to be bad.
 */
import * as pulumi from "@pulumi/pulumi";
import { InvalidArgumentsError } from "../shared/problems.ts";
import { KNATIVE_RELEASES, type KnativeMinor, type KnativeRelease, VERSIONS } from "./versions.ts";

/** The StorageClasses a cluster has, and the one it marks as its default. */
export interface StorageClasses {
    names: string[];
    default: string | undefined;
}

/** What the preview knows about the target cluster. */
export interface ClusterFacts {
    /** The API server's version, `major.minor` (e.g. "1.34"). */
    kubernetes: string;
    /** The Knative Serving release installed there (`major.minor`), or undefined on a fresh cluster. */
    installedKnative: string | undefined;
    /** The Istio release installed there (`major.minor`), if any. */
    installedIstio: string | undefined;
    /** The Elastic Stack version of the platform's Elasticsearch (`major.minor`), if any. */
    installedElasticsearch: string | undefined;
    /** The StorageClasses the cluster has, which the platform's volumes must claim (storage-classes.ts). */
    storageClasses: StorageClasses;
    /** The names of the CRDs the cluster has, which a preview needs to know the charts' custom resources (crds.ts). */
    crds: readonly string[];
}

/** What the platform is about to install. */
export interface Target {
    knative: KnativeMinor;
    istio: string;
    eck: string;
    elasticsearch: string;
    kiali: string;
}

export interface Finding {
    rule: RuleId;
    /** `unsupported`: refused unless accepted; `unchecked`: the matrix has no row for the pair. */
    kind: "unsupported" | "unchecked";
    message: string;
}

/** `major.minor` of a version string such as "v1.34.4", "1.29.2" or "1.23". */
export function minorOf(version: string): string {
    const match = /^v?(\d+)\.(\d+)/.exec(version);
    if (match === null) throw new Error(`not a version: "${version}"`);
    return `${match[1]}.${match[2]}`;
}

function majorMinor(version: string): [major: number, minor: number] {
    return minorOf(version).split(".").map(Number) as [number, number];
}

/** Compares two versions by `major.minor`. */
function compareMinor(a: string, b: string): number {
    const [aMajor, aMinor] = majorMinor(a);
    const [bMajor, bMinor] = majorMinor(b);
    return aMajor - bMajor || aMinor - bMinor;
}

/** A move from `installed` to `target` that skips a minor or goes down, for a product upgraded one minor at a time. */
function oneMinorAtATime(
    product: string,
    target: string,
    installed: string | undefined,
    how: string,
): Omit<Finding, "rule"> | undefined {
    if (installed === undefined) return undefined;
    const step = compareMinor(target, installed);
    if (step < 0) {
        return {
            kind: "unsupported",
            message: `${product} ${minorOf(target)} cannot replace the installed ${installed}: ${product} has no downgrade path`,
        };
    }
    const [major, minor] = majorMinor(installed);
    const between = Array.from({ length: Math.max(0, step - 1) }, (_, i) => `${major}.${minor + i + 1}`);
    return between.length > 0
        ? {
              kind: "unsupported",
              message: `${product} ${minorOf(target)} cannot be installed over ${installed}: go through ${between.join(", then ")} first (${how}, up, check, then the next)`,
          }
        : undefined;
}

interface Rule {
    id: string;
    /** Where the rule's rows come from; re-read it when bumping. */
    source: string;
    check(target: Target, cluster: ClusterFacts): Omit<Finding, "rule"> | undefined;
}

/** The Istio minors a release (net-istio's, Kiali's) is tested against, as {@link KnativeRelease} explains. */
type TestedIstio = KnativeRelease["netIstioTestedIstio"];

/** The Kubernetes range each Istio minor supports. */
const ISTIO_KUBERNETES: Record<string, readonly [string, string]> = { "1.30": ["1.32", "1.36"] };

/** The Kubernetes range each ECK operator minor supports. */
const ECK_KUBERNETES: Record<string, readonly [string, string]> = {
    "2.16": ["1.27", "1.31"],
    "3.5": ["1.32", "1.36"],
};

/** The Istio minors each Kiali minor is tested against: those supported on the day it was released. */
const KIALI_TESTED_ISTIO: Record<string, TestedIstio> = { "2.29": { tested: ["1.29", "1.30"], complete: true } };

/** A finding when `product` (a row of a tested-Istio table, if it has one) is not tested against `istio`. */
function testedAgainstIstio(
    product: string,
    row: TestedIstio | undefined,
    istio: string,
): Omit<Finding, "rule"> | undefined {
    if (row === undefined) return { kind: "unchecked", message: `${product} has no Istio row in the matrix` };
    const { tested, complete } = row;
    const minor = minorOf(istio);
    if (tested.includes(minor)) return undefined;
    return !complete && compareMinor(minor, tested.at(-1) ?? minor) > 0
        ? {
              kind: "unchecked",
              message: `${product} was read as tested against Istio ${tested.join(", ")} before its release; whether it tested ${minor} is in its release notes`,
          }
        : { kind: "unsupported", message: `${product} is tested against Istio ${tested.join(", ")}, not ${istio}` };
}

/** A finding when the cluster's Kubernetes is outside what `product` (a row of `ranges`) supports. */
function kubernetesRange(
    product: string,
    version: string,
    ranges: Record<string, readonly [string, string]>,
    kubernetes: string,
): Omit<Finding, "rule"> | undefined {
    const range = ranges[minorOf(version)];
    if (range === undefined) {
        return { kind: "unchecked", message: `${product} ${version} has no Kubernetes range in the matrix` };
    }
    const [low, high] = range;
    return compareMinor(kubernetes, low) < 0 || compareMinor(kubernetes, high) > 0
        ? {
              kind: "unsupported",
              message: `${product} ${version} supports Kubernetes ${low}-${high}; the cluster runs ${kubernetes}`,
          }
        : undefined;
}

const RULES = [
    {
        id: "knative-kubernetes",
        source: "knative.dev/pkg version/version.go DefaultKubernetesMinVersion (v1.34.0 in knative/serving v0.50.0, Knative 1.23; v1.34.0 for 1.22)",
        check: (target, cluster) => {
            const minimum = KNATIVE_RELEASES[target.knative].minimumKubernetes;
            return compareMinor(cluster.kubernetes, minimum) < 0
                ? {
                      kind: "unsupported",
                      message: `Knative ${target.knative} needs Kubernetes ≥ ${minimum}; the cluster runs ${cluster.kubernetes}`,
                  }
                : undefined;
        },
    },
    {
        id: "knative-one-minor-at-a-time",
        source: "Knative's upgrade guide: upgrade one minor version at a time, never down (knative.dev/docs/install/upgrade/)",
        check: (target, cluster) =>
            oneMinorAtATime("Knative", target.knative, cluster.installedKnative, "set knative.version to each"),
    },
    {
        id: "istio-kubernetes",
        source: "Istio's supported releases: 1.30 supports Kubernetes 1.32-1.36 (istio.io/latest/docs/releases/supported-releases/)",
        check: (target, cluster) => kubernetesRange("Istio", target.istio, ISTIO_KUBERNETES, cluster.kubernetes),
    },
    {
        id: "istio-one-minor-at-a-time",
        source: "Istio's in-place upgrade guide: one minor version at a time (istio.io/latest/docs/setup/upgrade/in-place/)",
        check: (target, cluster) =>
            oneMinorAtATime(
                "Istio",
                target.istio,
                cluster.installedIstio,
                "pin each in components/platform/versions.ts",
            ),
    },
    {
        id: "elasticsearch-major-upgrade",
        source: "Elastic's upgrade guide: a major upgrade starts from the last minor of the previous major, after the Upgrade Assistant's checks (elastic.co/docs/deploy-manage/upgrade)",
        check: (target, cluster) => {
            const installed = cluster.installedElasticsearch;
            if (installed === undefined || majorMinor(target.elasticsearch)[0] === majorMinor(installed)[0]) {
                return undefined;
            }
            return {
                kind: "unsupported",
                message: `Elasticsearch ${target.elasticsearch} is a major upgrade of the installed ${installed}: run the Upgrade Assistant from the last minor of ${String(majorMinor(installed)[0])}.x, then accept this rule for the upgrade's preview`,
            };
        },
    },
    {
        id: "net-istio-istio",
        source: "net-istio's CI installs third_party/istio-latest: Istio 1.29.2 on release-1.22 and on main up to 2026-06-01, two months before knative-v1.23.0 (knative-extensions/net-istio)",
        check: (target) =>
            testedAgainstIstio(
                `net-istio ${target.knative}`,
                KNATIVE_RELEASES[target.knative].netIstioTestedIstio,
                target.istio,
            ),
    },
    {
        id: "kiali-istio",
        source: "kiali.io prerequisites: from Kiali 2.4 on, each release is tested against the Istio releases supported when it is released; Kiali 2.29.0 tagged 2026-07-13 (kiali/helm-charts), between Istio 1.30.1 (2026-05-29) and 1.31.0 (2026-08-24), 1.29 supported to 2026-10-15",
        check: (target) =>
            testedAgainstIstio(`Kiali ${target.kiali}`, KIALI_TESTED_ISTIO[minorOf(target.kiali)], target.istio),
    },
    {
        id: "eck-kubernetes",
        source: "ECK's README at each tag, supported versions: 2.16 Kubernetes 1.27-1.31, 3.5 Kubernetes 1.32-1.36 (elastic/cloud-on-k8s)",
        check: (target, cluster) => kubernetesRange("ECK", target.eck, ECK_KUBERNETES, cluster.kubernetes),
    },
] as const satisfies readonly Rule[];

export type RuleId = (typeof RULES)[number]["id"];
export const RULE_IDS: readonly RuleId[] = RULES.map((rule) => rule.id);

/** What a stack installs: its Knative release and Elastic Stack version, and the platform's other pins. */
export function targetOf(knative: KnativeMinor, elasticsearch: string = VERSIONS.elasticStack): Target {
    return { knative, istio: VERSIONS.istio, eck: VERSIONS.eckOperator, elasticsearch, kiali: VERSIONS.kiali };
}

/** Every finding for the target on this cluster, each naming its rule and source. */
export function checkCompatibility(target: Target, cluster: ClusterFacts): Finding[] {
    return RULES.flatMap((rule: Rule) => {
        const found = rule.check(target, cluster);
        return found === undefined
            ? []
            : [
                  {
                      rule: rule.id as RuleId,
                      kind: found.kind,
                      message: `${found.message} (rule ${rule.id}; source: ${rule.source})`,
                  },
              ];
    });
}

/**
 * Refuses the unsupported findings the stack has not accepted, all at once, naming the stack;
 * warns of the accepted and the unchecked ones (on every preview, as long as they hold).
 */
export function enforceCompatibility(findings: Finding[], accepted: readonly RuleId[], stack: string): void {
    const refused = findings.filter((f) => f.kind === "unsupported" && !accepted.includes(f.rule));
    for (const finding of findings.filter((f) => !refused.includes(f))) {
        const why = finding.kind === "unsupported" ? "accepted by compatibility.accept" : "unchecked";
        void pulumi.log.warn(`${stack}: ${finding.message} [${why}]`);
    }
    if (refused.length > 0) {
        throw new InvalidArgumentsError(
            refused.map((f) => `${stack}: ${f.message}. To proceed anyway, add "${f.rule}" to compatibility.accept.`),
        );
    }
}
