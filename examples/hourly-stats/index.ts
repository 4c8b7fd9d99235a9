/**
 * The hourly statistics batch from the design brief: a JVM job that a cron
 * schedule wakes once an hour. Between runs it holds no pod at all.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformReference, ServerlessService } from "serverless-platform";

export default async function hourlyStats() {
    const config = new pulumi.Config();
    const platform = await PlatformReference.fromStack(config.require("platformStack"));

    const stats = new ServerlessService("hourly-stats", {
        namespace: platform.namespace("games-batch"),
        platform: platform.knativeLimits,
        image: "registry.example.com/games/hourly-stats:2.3.1",
        runtime: "jvm",
        scaling: {
            minScale: 0,
            maxScale: 1,
            // Start no pod at deploy where the platform allows it: the first run starts one.
            initialScale: platform.knativeLimits.allowZeroInitialScale ? 0 : 1,
            // One run at a time, and release the pod as soon as it is done.
            containerConcurrency: 1,
            scaleDownDelay: "0s",
        },
        timeoutSeconds: 600,
        env: { STATS_WINDOW: "1h" },
        triggers: {
            cron: [{ name: "hourly", schedule: "0 * * * *", timezone: "Asia/Seoul", data: '{"job":"hourly-stats"}' }],
        },
    });

    return { url: stats.url, namespace: stats.namespace };
}
