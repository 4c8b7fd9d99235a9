import type { ITrafficTarget } from "@kubernetes-models/knative/serving.knative.dev/v1/TrafficTarget";
import { isDns1035Label } from "../shared/names.ts";
import type { Problems } from "../shared/problems.ts";

/**
 * One slice of a service's traffic: either a pinned revision or the latest
 * ready one. A tag gives the slice its own URL (`<tag>-<service>.<ns>.<domain>`),
 * whatever its percent, so a canary can be tested before it takes traffic.
 * @see https://knative.dev/docs/serving/traffic-management/
 */
export type TrafficTarget =
    | { revisionName: string; latestRevision?: false; percent: number; tag?: string }
    | { latestRevision?: true; revisionName?: undefined; percent: number; tag?: string };

/** Ready-made traffic splits that read like intent. */
export const Traffic = {
    /** All traffic to the newest ready revision (Knative's default, written out). */
    latest(): TrafficTarget[] {
        return [{ latestRevision: true, percent: 100 }];
    },

    /** All traffic to one revision: a rollback is `Traffic.pin("api-v1")`. */
    pin(revisionName: string): TrafficTarget[] {
        return [{ revisionName, percent: 100 }];
    },

    /**
     * Sends `percent` of traffic to the newest revision (tagged `canary`) and
     * the rest to `stableRevision` (tagged `stable`). Raise the percent step by
     * step, then finish with {@link Traffic.latest}.
     */
    canary(stableRevision: string, percent: number, tags: { stable?: string; canary?: string } = {}): TrafficTarget[] {
        return [
            { revisionName: stableRevision, percent: 100 - percent, tag: tags.stable ?? "stable" },
            { latestRevision: true, percent, tag: tags.canary ?? "canary" },
        ];
    },
};

/**
 * Checks a traffic split by Knative's rules (not both revisionName and latestRevision, percents
 * 0–100 summing to 100, unique tags whose route host `<tag>-<service>` is a DNS label) and
 * renders it. A target naming no revision takes the latest, as Knative defaults it; "" means unset.
 */
export function renderTraffic(
    serviceName: string,
    traffic: readonly TrafficTarget[],
    newRevisionName: string | undefined,
    problems: Problems,
): ITrafficTarget[] {
    const seenTags = new Set<string>();
    const rendered = traffic.map((target, i) => {
        const at = `traffic[${i}]`;
        const revisionName = target.revisionName === "" ? undefined : target.revisionName;
        const tag = target.tag === "" ? undefined : target.tag;
        const pinned = revisionName !== undefined;
        if (pinned && target.latestRevision === true) {
            problems.add(at, "must set one of revisionName and latestRevision: true, not both", target);
        }
        if (revisionName !== undefined) {
            if (!isDns1035Label(revisionName)) {
                problems.add(`${at}.revisionName`, "must be a revision name (a DNS-1035 label)", revisionName);
            } else if (revisionName === newRevisionName) {
                problems.add(
                    `${at}.revisionName`,
                    "names the revision this update creates (revisionName); a canary's stable revision must be an earlier one",
                    revisionName,
                );
            }
        }
        if (!isPercent(target.percent)) {
            problems.add(`${at}.percent`, "must be a whole number from 0 to 100", target.percent);
        }
        if (tag !== undefined) {
            if (!isDns1035Label(tag)) {
                problems.add(
                    `${at}.tag`,
                    "must be a DNS-1035 label (lowercase letters, digits, '-', starting with a letter)",
                    tag,
                );
            } else if (seenTags.has(tag)) {
                problems.add(`${at}.tag`, "must be unique within traffic", tag);
            } else if (`${tag}-${serviceName}`.length > 63) {
                problems.add(
                    `${at}.tag`,
                    `makes the route host "${tag}-${serviceName}", ${`${tag}-${serviceName}`.length} characters; ` +
                        "Knative's route needs a DNS label of at most 63: shorten the service name or the tag",
                    tag,
                );
            }
            seenTags.add(tag);
        }
        return {
            ...(pinned ? { revisionName } : {}),
            latestRevision: !pinned,
            percent: target.percent,
            ...(tag !== undefined ? { tag } : {}),
        };
    });
    const sum = traffic.reduce((total, target) => total + target.percent, 0);
    if (traffic.every((target) => isPercent(target.percent)) && sum !== 100) {
        problems.add("traffic", "percents must sum to 100", sum);
    }
    return rendered;
}

/**
 * Knative names a service's revisions `<service>-<suffix>` and refuses a
 * template revision name without that prefix.
 */
export function checkRevisionName(serviceName: string, field: string, name: string, problems: Problems): void {
    if (!isDns1035Label(name)) {
        problems.add(field, "must be a DNS-1035 label of at most 63 characters", name);
    } else if (!name.startsWith(`${serviceName}-`)) {
        problems.add(field, `must start with the service name and a dash ("${serviceName}-")`, name);
    }
}

function isPercent(value: number): boolean {
    return Number.isInteger(value) && value >= 0 && value <= 100;
}
