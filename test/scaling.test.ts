import { describe, expect, test } from "vitest";
import { Problems } from "../components/shared/problems.ts";
import { renderRuntime, RUNTIME_PRESETS } from "../components/app/runtime.ts";
import { renderScaling, type ScalingArgs } from "../components/app/scaling.ts";
import { KNATIVE_DEFAULT_LIMITS } from "../components/shared/knative-limits.ts";

const A = "autoscaling.knative.dev";

function scaling(args: ScalingArgs, presetDelay?: string) {
    const problems = new Problems('ServerlessService "api"');
    const rendered = renderScaling(args, presetDelay, KNATIVE_DEFAULT_LIMITS, problems);
    problems.throwIfAny();
    return rendered;
}

describe("renderScaling maps intent to Knative's autoscaling annotations", () => {
    test("defaults: KPA on concurrency, scale to zero, at most 10 pods, one pod at deploy", () => {
        expect(scaling({})).toEqual({
            annotations: {
                [`${A}/class`]: "kpa.autoscaling.knative.dev",
                [`${A}/metric`]: "concurrency",
                [`${A}/min-scale`]: "0",
                [`${A}/max-scale`]: "10",
                [`${A}/initial-scale`]: "1",
            },
            containerConcurrency: 0,
            minScale: 0,
            maxScale: 10,
            kpa: true,
        });
    });

    test("every argument lands in its annotation", () => {
        const rendered = scaling({
            minScale: 1,
            maxScale: 20,
            initialScale: 2,
            target: 50,
            metric: "rps",
            containerConcurrency: 100,
            scaleDownDelay: "5m",
            window: "60s",
            targetUtilizationPercentage: 80,
            activationScale: 3,
        });
        expect(rendered.annotations).toEqual({
            [`${A}/class`]: "kpa.autoscaling.knative.dev",
            [`${A}/metric`]: "rps",
            [`${A}/min-scale`]: "1",
            [`${A}/max-scale`]: "20",
            [`${A}/initial-scale`]: "2",
            [`${A}/target`]: "50",
            [`${A}/target-utilization-percentage`]: "80",
            [`${A}/activation-scale`]: "3",
            [`${A}/window`]: "60s",
            [`${A}/scale-down-delay`]: "5m",
        });
        expect(rendered.containerConcurrency).toBe(100);
    });

    test("cpu and memory use the HPA class and keep one pod by default", () => {
        const rendered = scaling({ metric: "cpu", target: 80 });
        expect(rendered.annotations[`${A}/class`]).toBe("hpa.autoscaling.knative.dev");
        expect(rendered.annotations[`${A}/min-scale`]).toBe("1");
        expect(rendered.annotations[`${A}/target`]).toBe("80");
    });

    test("the preset's scale-down delay applies unless the service sets its own", () => {
        expect(scaling({}, "5m").annotations[`${A}/scale-down-delay`]).toBe("5m");
        expect(scaling({ scaleDownDelay: "30s" }, "5m").annotations[`${A}/scale-down-delay`]).toBe("30s");
        expect(scaling({ metric: "memory" }, "5m").annotations[`${A}/scale-down-delay`]).toBeUndefined();
    });

    test("the platform's limits are enforced", () => {
        const problems = new Problems('ServerlessService "api"');
        renderScaling(
            { maxScale: 50, containerConcurrency: 300 },
            undefined,
            { maxScaleLimit: 20, allowZeroInitialScale: true, containerConcurrencyMaxLimit: 200 },
            problems,
        );
        expect(() => {
            problems.throwIfAny();
        }).toThrow(
            [
                `ServerlessService "api": scaling.maxScale must be ≤ the platform's max-scale-limit (20) (got 50)`,
                `ServerlessService "api": scaling.containerConcurrency must be a whole number from 0 (no limit) to 200 (got 300)`,
            ].join("\n"),
        );
    });
});

describe("renderRuntime", () => {
    const runtime = (args: Parameters<typeof renderRuntime>[0]) => {
        const problems = new Problems('ServerlessService "api"');
        const rendered = renderRuntime(args, 8080, problems);
        problems.throwIfAny();
        return rendered;
    };

    test("jvm: more CPU to start, a startup probe that waits 3 minutes, container-aware heap, 10m deadline", () => {
        const jvm = runtime({ runtime: "jvm" });
        expect(jvm.resources).toEqual({ requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } });
        expect(jvm.startupProbe).toEqual({
            tcpSocket: { port: 8080 },
            periodSeconds: 2,
            failureThreshold: 90,
            timeoutSeconds: 2,
        });
        expect(jvm.javaToolOptions).toContain("-XX:MaxRAMPercentage=75.0");
        expect(jvm.progressDeadline).toBe("10m");
        expect(jvm.scaleDownDelay).toBe("5m");
    });

    test("native: small, and a broken revision fails within 10 seconds", () => {
        const native = runtime({ runtime: "native" });
        expect(native.resources).toEqual({
            requests: { cpu: "250m", memory: "256Mi" },
            limits: { cpu: "1", memory: "256Mi" },
        });
        expect(native.startupProbe).toEqual({
            tcpSocket: { port: 8080 },
            periodSeconds: 1,
            failureThreshold: 10,
            timeoutSeconds: 1,
        });
        expect(native.javaToolOptions).toBeUndefined();
        expect(native.progressDeadline).toBe("3m");
    });

    test("generic: no startup probe, Knative's own readiness probing and progress deadline", () => {
        const generic = runtime({});
        expect(generic.startupProbe).toBeUndefined();
        expect(generic.readinessProbe).toBeUndefined();
        expect(generic.progressDeadline).toBeUndefined();
        expect(generic.resources).toEqual({
            requests: { cpu: "250m", memory: "256Mi" },
            limits: { cpu: "1", memory: "256Mi" },
        });
    });

    test("every preset value can be overridden", () => {
        const jvm = runtime({
            runtime: "jvm",
            resources: { cpu: "500m", memory: "512Mi" },
            startupProbe: { failureThreshold: 30 },
            jvmOptions: "-XX:MaxRAMPercentage=60.0",
            progressDeadline: "5m",
            healthPath: "/actuator/health/readiness",
        });
        expect(jvm.resources).toEqual({
            requests: { cpu: "500m", memory: "512Mi" },
            limits: { cpu: "2", memory: "512Mi" },
        });
        expect(jvm.startupProbe).toEqual({
            httpGet: { path: "/actuator/health/readiness", port: 8080 },
            periodSeconds: 2,
            failureThreshold: 30,
            timeoutSeconds: 2,
        });
        expect(jvm.readinessProbe).toEqual({
            httpGet: { path: "/actuator/health/readiness", port: 8080 },
            successThreshold: 1,
        });
        expect(jvm.javaToolOptions).toBe("-XX:MaxRAMPercentage=60.0");
        expect(jvm.progressDeadline).toBe("5m");
        expect(runtime({ runtime: "jvm", startupProbe: false }).startupProbe).toBeUndefined();
    });

    test("the preset table is the documented one", () => {
        expect(Object.keys(RUNTIME_PRESETS)).toEqual(["jvm", "native", "generic"]);
    });
});
