import type { ITrafficTarget } from "@kubernetes-models/knative/serving.knative.dev/v1/TrafficTarget";
import { isDns1035Label } from "./names.ts";
import type { Problems } from "./problems.ts";

/**
 * One slice of a service's traffic: either a pinned revision or the latest
 * ready one. A tag gives the slice its own URL (`<tag>-<service>.<ns>.<domain>`),
 * whatever its percent, so a canary can be tested before it takes traffic.
 * @see https://knative.dev/docs/serving/traffic-management/
 */
export type TrafficTarget =
    | { revisionName: string; latestRevision?: false; percent: number; tag?: string }
    | { latestRevision: true; revisionName?: undefined; percent: number; tag?: string };

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
 * Checks a traffic split by Knative's rules (one of revisionName and
 * latestRevision, percents 0–100 summing to 100, unique DNS-safe tags,
 * revision names that belong to this service) and renders it.
 */
export function renderTraffic(
    serviceName: string,
    traffic: readonly TrafficTarget[],
    problems: Problems,
): ITrafficTarget[] {
    if (traffic.length === 0) {
        problems.add("traffic", "must have at least one target", traffic);
        return [];
    }
    const seenTags = new Set<string>();
    const rendered = traffic.map((target, i) => {
        const at = `traffic[${i}]`;
        const pinned = target.revisionName !== undefined;
        if (pinned === (target.latestRevision === true)) {
            problems.add(at, "must set exactly one of revisionName and latestRevision: true", target);
        }
        if (pinned) {
            checkRevisionName(serviceName, `${at}.revisionName`, target.revisionName, problems);
        }
        if (!isPercent(target.percent)) {
            problems.add(`${at}.percent`, "must be a whole number from 0 to 100", target.percent);
        }
        if (target.tag !== undefined) {
            if (!isDns1035Label(target.tag)) {
                problems.add(
                    `${at}.tag`,
                    "must be a DNS-1035 label (lowercase letters, digits, '-', starting with a letter)",
                    target.tag,
                );
            } else if (seenTags.has(target.tag)) {
                problems.add(`${at}.tag`, "must be unique within traffic", target.tag);
            }
            seenTags.add(target.tag);
        }
        return {
            ...(pinned ? { revisionName: target.revisionName } : {}),
            latestRevision: !pinned,
            percent: target.percent,
            ...(target.tag !== undefined ? { tag: target.tag } : {}),
        };
    });
    const sum = traffic.reduce((total, target) => total + target.percent, 0);
    if (traffic.every((target) => isPercent(target.percent)) && sum !== 100) {
        problems.add("traffic", "percents must sum to 100", sum);
    }
    return rendered;
}

/**
 * Knative names a service's revisions `<service>-<suffix>` and rejects a
 * pinned name without that prefix.
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
