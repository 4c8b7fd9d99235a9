/**
 * Validates rendered Knative objects against the upstream CRD schemas that
 * @kubernetes-models/knative ships. KafkaSource is not in that package (it
 * belongs to eventing-kafka-broker), so it is checked by the rules of that
 * project's `KafkaSourceSpec.Validate`.
 */
import { Trigger } from "@kubernetes-models/knative/eventing.knative.dev/v1/Trigger";
import { Service } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import { PingSource } from "@kubernetes-models/knative/sources.knative.dev/v1/PingSource";
import { KAFKA, KSVC, PING, type Registered, TRIGGER } from "./harness.ts";

/** Throws when a registered Knative object breaks its upstream schema. */
export function validateAgainstUpstream(resource: Registered): void {
    // The mocked status is what Knative writes, not what we send.
    const object = { ...resource.inputs, status: undefined };
    switch (resource.type) {
        case KSVC:
            new Service(object).validate();
            return;
        case PING:
            new PingSource(object).validate();
            return;
        case TRIGGER:
            new Trigger(object).validate();
            return;
        case KAFKA:
            validateKafkaSource(object);
            return;
        default:
            throw new Error(`no upstream schema for ${resource.type}`);
    }
}

/** eventing-kafka-broker's control-plane/pkg/apis/sources/v1 kafka_validation.go, rule by rule. */
function validateKafkaSource(object: Record<string, any>): void {
    const spec = object.spec ?? {};
    const errors: string[] = [];
    if (object.apiVersion !== "sources.knative.dev/v1" || object.kind !== "KafkaSource") errors.push("apiVersion/kind");
    if (!Array.isArray(spec.topics) || spec.topics.length === 0) errors.push("missing field(s): topics");
    if (!Array.isArray(spec.bootstrapServers) || spec.bootstrapServers.length === 0)
        errors.push("missing field(s): bootstrapServers");
    if (!["earliest", "latest"].includes(spec.initialOffset))
        errors.push(`invalid value: ${spec.initialOffset}: initialOffset`);
    if (spec.ordering !== undefined && !["ordered", "unordered"].includes(spec.ordering))
        errors.push(`invalid value: ${spec.ordering}: ordering`);
    if (spec.sink?.ref === undefined && spec.sink?.uri === undefined)
        errors.push("expected exactly one, got neither: sink.ref, sink.uri");
    if (errors.length > 0) throw new Error(`KafkaSource ${object.metadata?.name}: ${errors.join("; ")}`);
}

/** Validates every Knative object among `resources`; returns how many there were. */
export function validateAllKnative(resources: readonly Registered[]): number {
    const knative = resources.filter((r) => r.type.startsWith("kubernetes:") && r.type.includes(".knative.dev/"));
    for (const resource of knative) {
        validateAgainstUpstream(resource);
    }
    return knative.length;
}
