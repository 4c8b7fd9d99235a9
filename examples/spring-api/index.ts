/**
 * A Spring Boot API: the JVM preset, one warm instance so that no player
 * waits for a cold start, and canary releases. The first release (`release:
 * v1`) takes all traffic; the next names the one it replaces (`release: v2`,
 * `stableRelease: v1`) and takes `canaryPercent` of traffic while v1 keeps
 * the rest. Rolling back is `canaryPercent: 0`; finishing the rollout is
 * `canaryPercent: 100`.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformReference, ServerlessService, Traffic } from "serverless-platform";

export default async function springApi() {
    const config = new pulumi.Config();
    const platform = await PlatformReference.fromStack(config.require("platformStack"));
    const release = config.get("release") ?? "v1";
    const stableRelease = config.get("stableRelease") ?? "";
    const canaryPercent = config.getNumber("canaryPercent") ?? 10;

    const api = new ServerlessService("spring-api", {
        namespace: platform.namespace("games-web"),
        platform: platform.knativeLimits,
        image: "registry.example.com/games/spring-api@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904f1b9d6f7c1b1d1d5e3c3a9f0",
        runtime: "jvm",
        healthPath: "/actuator/health/readiness",
        scaling: { minScale: 1, maxScale: 5, target: 50 },
        revisionName: `spring-api-${release}`,
        traffic:
            stableRelease === "" || canaryPercent === 100
                ? Traffic.latest()
                : Traffic.canary(`spring-api-${stableRelease}`, canaryPercent),
        visibility: "public",
        env: { SPRING_PROFILES_ACTIVE: pulumi.getStack() },
        secretEnv: { SPRING_DATASOURCE_PASSWORD: config.requireSecret("dbPassword") },
        triggers: {
            broker: [
                {
                    name: "posts",
                    broker: platform.broker("games-web"),
                    filter: { type: "com.example.post.created" },
                    delivery: { retry: 5, backoffPolicy: "exponential", backoffDelay: "500ms" },
                },
            ],
        },
    });

    return { url: api.url, canaryUrl: api.tagUrls.apply((urls) => urls.canary ?? "") };
}
