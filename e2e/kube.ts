/** A minimal client of the test API server: JSON in, JSON out, errors with the server's words. */
import { readFileSync } from "node:fs";
import { request } from "node:https";

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
    contentType = "application/json",
): Promise<any> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
        const req = request(
            new URL(path, target.api),
            {
                method,
                ca: readFileSync(target.caFile),
                headers: {
                    authorization: `Bearer ${target.token}`,
                    accept: "application/json",
                    ...(payload !== undefined ? { "content-type": contentType } : {}),
                },
                timeout: 30_000,
            },
            (res) => {
                let text = "";
                res.on("data", (chunk: Buffer) => (text += chunk.toString()));
                res.on("end", () => {
                    if ((res.statusCode ?? 500) >= 300)
                        reject(new Error(`${method} ${path}: ${String(res.statusCode)} ${text}`));
                    else resolve(text === "" ? {} : text.startsWith("{") ? JSON.parse(text) : text);
                });
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on("error", reject);
        req.end(payload);
    });
}
