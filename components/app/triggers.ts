import type { IDeliverySpec } from "@kubernetes-models/knative/duck.knative.dev/v1/DeliverySpec";
import type { ITriggerSpec } from "@kubernetes-models/knative/eventing.knative.dev/v1/TriggerSpec";
import type { IPingSourceSpec } from "@kubernetes-models/knative/sources.knative.dev/v1/PingSourceSpec";
import type * as pulumi from "@pulumi/pulumi";
import { parseGoDuration, toIso8601 } from "../shared/duration.ts";
import { isDns1035Label, isHostPort } from "../shared/names.ts";
import type { Problems } from "../shared/problems.ts";
import { cronProblem, isIanaTimeZone } from "./schedule.ts";

/**
 * Runs the service on a schedule through a Knative PingSource, which posts a
 * CloudEvent (type `dev.knative.sources.ping`) with `data` to the service.
 * @see https://knative.dev/docs/eventing/sources/ping-source/
 */
export interface CronTriggerArgs {
    /** Five cron fields ("0 * * * *") or a descriptor ("@hourly"). */
    schedule: string;
    /** IANA time zone the schedule is read in. @default "UTC" */
    timezone?: string;
    /** Event payload. Checked as JSON when `contentType` is JSON. @default unset (empty event) */
    data?: string;
    /** Media type of `data`. @default "application/json" when `data` is set */
    contentType?: string;
    /** Suffix of the PingSource's name (`<service>-cron-<name>`). @default the trigger's index */
    name?: string;
}

/**
 * Where events go when they cannot be delivered, and how hard to try first.
 * @see https://knative.dev/docs/eventing/event-delivery/
 */
export interface DeliveryArgs {
    /** Retries after the first attempt. @default unset (the broker's default) */
    retry?: number;
    /** @default unset ("exponential") */
    backoffPolicy?: "linear" | "exponential";
    /** First backoff delay, as a Go duration ("200ms", "2s"). @default unset */
    backoffDelay?: string;
    /** A URI, or `{ service }` for a Knative Service in the same namespace. @default unset: events are dropped */
    deadLetterSink?: string | { service: string };
}

/**
 * Runs the service for each record of Kafka topics, through a KafkaSource
 * (from Knative's eventing-kafka-broker).
 * @see https://knative.dev/docs/eventing/sources/kafka-source/
 */
export interface KafkaTriggerArgs {
    /** "host:port" of the brokers, e.g. the platform stack's `kafkaBootstrapServers` output. */
    bootstrapServers: pulumi.Input<pulumi.Input<string>[]>;
    /** The topics whose records run the service. */
    topics: string[];
    /** Kafka consumer group. Changing it replaces the source (Knative forbids changing it). @default the source's name */
    consumerGroup?: string;
    /** Where a new consumer group starts reading. @default "latest" */
    initialOffset?: "earliest" | "latest";
    /** `ordered` delivers one record per partition at a time. @default "ordered" */
    ordering?: "ordered" | "unordered";
    /** Consumers in the group. @default 1 */
    consumers?: number;
    /** Retries, backoff and a dead-letter sink for records the service fails. @default the source's defaults */
    delivery?: DeliveryArgs;
    /** Suffix of the KafkaSource's name (`<service>-kafka-<name>`). @default the trigger's index */
    name?: string;
}

/**
 * Runs the service for events on a broker that match a filter, through a
 * Knative Trigger.
 * @see https://knative.dev/docs/eventing/triggers/
 */
export interface BrokerTriggerArgs {
    /** The broker's name in the service's namespace. Changing it replaces the trigger. @default "default" */
    broker?: pulumi.Input<string>;
    /** CloudEvent attributes that must match exactly, e.g. `{ type: "com.example.post.created" }`. @default all events */
    filter?: Record<string, string>;
    /** Retries, backoff and a dead-letter sink for events the service fails. @default the broker's defaults */
    delivery?: DeliveryArgs;
    /** Suffix of the Trigger's name (`<service>-broker-<name>`). @default the trigger's index */
    name?: string;
}

/** Every way events reach the service. */
export interface TriggersArgs {
    /** A PingSource per schedule, sinking to the service. @default none */
    cron?: CronTriggerArgs[];
    /** A KafkaSource per entry, sinking to the service. @default none */
    kafka?: KafkaTriggerArgs[];
    /** A Trigger per entry on a broker of the namespace, subscribing the service. @default none */
    broker?: BrokerTriggerArgs[];
}

/** A rendered child object: its name and spec. */
export interface RenderedTrigger<Spec> {
    name: string;
    spec: Spec;
}

/** A sink: a Knative Service in the same namespace, or a URI. */
type Sink = NonNullable<IPingSourceSpec["sink"]>;

const serviceSink = (name: string): Sink => ({ ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name } });

/**
 * KafkaSource's spec, after eventing-kafka-broker's `KafkaSourceSpec` (no
 * typed model of it is published on npm).
 */
export interface KafkaSourceSpec {
    bootstrapServers: pulumi.Input<pulumi.Input<string>[]>;
    topics: string[];
    consumerGroup: string;
    initialOffset: "earliest" | "latest";
    ordering: "ordered" | "unordered";
    consumers: number;
    delivery?: IDeliverySpec;
    sink: Sink;
}

/** Knative's TriggerSpec, with a broker name that may come from another stack. */
export type TriggerSpec = Omit<ITriggerSpec, "broker"> & { broker: pulumi.Input<string> };

/** All trigger objects of one service, named and checked. */
export interface RenderedTriggers {
    cron: RenderedTrigger<IPingSourceSpec>[];
    kafka: RenderedTrigger<KafkaSourceSpec>[];
    broker: RenderedTrigger<TriggerSpec>[];
}

/** Checks every trigger and renders the PingSource, KafkaSource and Trigger specs. */
export function renderTriggers(serviceName: string, triggers: TriggersArgs, problems: Problems): RenderedTriggers {
    const names = new Set<string>();
    const nameFor = (kind: string, index: number, suffix: string | undefined): string => {
        const name = `${serviceName}-${kind}-${suffix ?? index}`;
        const field = `triggers.${kind}[${index}].name`;
        if (!isDns1035Label(name)) {
            problems.add(field, `must make "${name}" a DNS-1035 label of at most 63 characters`, suffix);
        } else if (names.has(name)) {
            problems.add(field, `must be unique: "${name}" is used twice`, suffix);
        }
        names.add(name);
        return name;
    };
    const sink = serviceSink(serviceName);

    const cron = (triggers.cron ?? []).map((trigger, i) => {
        const at = `triggers.cron[${i}]`;
        const scheduleProblem = cronProblem(trigger.schedule);
        if (scheduleProblem !== undefined) {
            problems.add(`${at}.schedule`, scheduleProblem, trigger.schedule);
        }
        const timezone = trigger.timezone ?? "UTC";
        if (!isIanaTimeZone(timezone)) {
            problems.add(`${at}.timezone`, 'must be an IANA time zone name such as "Asia/Seoul" or "UTC"', timezone);
        }
        const contentType = trigger.contentType ?? (trigger.data !== undefined ? "application/json" : undefined);
        if (trigger.data !== undefined && contentType === "application/json" && !isJsonObject(trigger.data)) {
            problems.add(`${at}.data`, 'must be a JSON object with contentType "application/json"', trigger.data);
        }
        const spec: IPingSourceSpec = {
            schedule: trigger.schedule,
            timezone,
            ...(contentType !== undefined ? { contentType } : {}),
            ...(trigger.data !== undefined ? { data: trigger.data } : {}),
            sink,
        };
        return { name: nameFor("cron", i, trigger.name), spec };
    });

    const kafka = (triggers.kafka ?? []).map((trigger, i) => {
        const at = `triggers.kafka[${i}]`;
        const name = nameFor("kafka", i, trigger.name);
        if (trigger.topics.length === 0) {
            problems.add(`${at}.topics`, "must name at least one topic", trigger.topics);
        }
        for (const [t, topic] of trigger.topics.entries()) {
            if (!/^[a-zA-Z0-9._-]{1,249}$/.test(topic)) {
                problems.add(
                    `${at}.topics[${t}]`,
                    "must be a Kafka topic name (letters, digits, '.', '_', '-')",
                    topic,
                );
            }
        }
        const bootstrapServers = problems.checkWhenKnown(trigger.bootstrapServers, (servers, late) => {
            if (servers.length === 0) {
                late.add(`${at}.bootstrapServers`, "must list at least one broker", servers);
            }
            for (const server of servers) {
                if (typeof server === "string" && !isHostPort(server)) {
                    late.add(`${at}.bootstrapServers`, 'must be "host:port" entries', server);
                }
            }
        });
        const initialOffset = trigger.initialOffset ?? "latest";
        problems.oneOf(`${at}.initialOffset`, initialOffset, ["earliest", "latest"]);
        const ordering = trigger.ordering ?? "ordered";
        problems.oneOf(`${at}.ordering`, ordering, ["ordered", "unordered"]);
        const consumers = trigger.consumers ?? 1;
        if (!Number.isInteger(consumers) || consumers < 1) {
            problems.add(`${at}.consumers`, "must be a whole number ≥ 1", consumers);
        }
        const spec: KafkaSourceSpec = {
            bootstrapServers,
            topics: trigger.topics,
            consumerGroup: trigger.consumerGroup ?? name,
            initialOffset,
            ordering,
            consumers,
            ...renderDelivery(`${at}.delivery`, trigger.delivery, problems),
            sink,
        };
        return { name, spec };
    });

    const broker = (triggers.broker ?? []).map((trigger, i) => {
        const at = `triggers.broker[${i}]`;
        const brokerName = problems.checkWhenKnown(trigger.broker ?? "default", (known, late) => {
            if (!isDns1035Label(known)) {
                late.add(`${at}.broker`, "must be a broker name (a DNS-1035 label)", known);
            }
        });
        for (const attribute of Object.keys(trigger.filter ?? {})) {
            if (!/^[a-z][a-z0-9]*$/.test(attribute)) {
                problems.add(
                    `${at}.filter`,
                    "keys must be CloudEvent attribute names (lowercase letters and digits)",
                    attribute,
                );
            }
        }
        const spec: TriggerSpec = {
            broker: brokerName,
            ...(trigger.filter !== undefined ? { filter: { attributes: trigger.filter } } : {}),
            subscriber: sink,
            ...renderDelivery(`${at}.delivery`, trigger.delivery, problems),
        };
        return { name: nameFor("broker", i, trigger.name), spec };
    });

    return { cron, kafka, broker };
}

function renderDelivery(
    at: string,
    delivery: DeliveryArgs | undefined,
    problems: Problems,
): { delivery?: IDeliverySpec } {
    if (delivery === undefined) {
        return {};
    }
    const rendered: IDeliverySpec = {};
    if (delivery.retry !== undefined) {
        if (!Number.isInteger(delivery.retry) || delivery.retry < 0) {
            problems.add(`${at}.retry`, "must be a whole number ≥ 0", delivery.retry);
        }
        rendered.retry = delivery.retry;
    }
    if (delivery.backoffPolicy !== undefined) {
        problems.oneOf(`${at}.backoffPolicy`, delivery.backoffPolicy, ["linear", "exponential"]);
        rendered.backoffPolicy = delivery.backoffPolicy;
    }
    if (delivery.backoffDelay !== undefined) {
        const backoff = parseGoDuration(delivery.backoffDelay);
        if (backoff === undefined || backoff.ns <= 0n) {
            problems.add(
                `${at}.backoffDelay`,
                'must be a positive Go duration such as "200ms" or "2s"',
                delivery.backoffDelay,
            );
        } else {
            rendered.backoffDelay = toIso8601(backoff.ms);
        }
    }
    const dls = delivery.deadLetterSink;
    if (typeof dls === "string") {
        if (!URL.canParse(dls) || !/^https?:/.test(dls)) {
            problems.add(`${at}.deadLetterSink`, "must be an http(s) URI or { service: name }", dls);
        }
        rendered.deadLetterSink = { uri: dls };
    } else if (dls !== undefined) {
        if (!isDns1035Label(dls.service)) {
            problems.add(`${at}.deadLetterSink.service`, "must be a Knative Service name", dls.service);
        }
        rendered.deadLetterSink = serviceSink(dls.service);
    }
    return { delivery: rendered };
}

function isJsonObject(text: string): boolean {
    try {
        const value: unknown = JSON.parse(text);
        return typeof value === "object" && value !== null && !Array.isArray(value);
    } catch {
        return false;
    }
}
