/** The `eventing` config section: which broker app namespaces get, and the Kafka cluster behind it. */
import { isHostPort } from "../../shared/names.ts";
import { type ValueOf, oneOf, optional, section, wholeNumber } from "./schema.ts";

export const EVENTING_SCHEMA = section(
    "Knative Eventing: the broker each app namespace gets",
    {
        broker: oneOf(
            "in-memory: the MT channel broker on in-memory channels (dev); kafka: Knative's Kafka broker",
            ["in-memory", "kafka"],
            "in-memory",
        ),
        kafka: optional(
            section("the Kafka cluster the Kafka broker and Kafka sources use", {
                bootstrapServers: {
                    doc: 'the brokers, as "host:port" (required)',
                    shown: undefined,
                    read(problems, path, servers): string[] {
                        if (!Array.isArray(servers) || servers.length === 0 || !servers.every(isHostPort)) {
                            problems.add(path, 'must be a non-empty list of "host:port"', servers);
                        }
                        return Array.isArray(servers) ? (servers as string[]) : [];
                    },
                },
                replicationFactor: wholeNumber("replication factor of the topics the broker creates", 3, 1),
                partitions: wholeNumber("partitions of the topics the broker creates", 10, 1),
            }),
        ),
    },
    (problems, path, eventing) => {
        if (eventing.broker === "kafka" && eventing.kafka === undefined) {
            problems.add(`${path}.kafka`, 'must give bootstrapServers when eventing.broker is "kafka"', undefined);
        }
    },
);

export type EventingConfig = ValueOf<typeof EVENTING_SCHEMA.fields>;
