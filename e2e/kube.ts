/** The test API server as the e2e tests reach it: the scheduler's own request function, with the run's CA file. */
import { readFileSync } from "node:fs";
import { apiRequest } from "../components/warm/scheduler.ts";

export interface KubeTarget {
    api: string;
    token: string;
    caFile: string;
}

/** Sends one request; rejects on a status of 300 or more. */
export function kube(
    target: KubeTarget,
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
): Promise<any> {
    return apiRequest(
        { api: target.api, token: target.token, ca: readFileSync(target.caFile) },
        method,
        path,
        body,
        contentType,
    );
}
