/**
 * The one upstream artefact with no real copy here: eventing-kafka-broker's data plane
 * (`eventing-kafka-broker.yaml`), which the Knative Operator does not ship. The stand-in carries
 * what the platform depends on, from eventing-kafka-broker's `data-plane/config/broker/` at the
 * pinned release: the receiver Deployment behind the `kafka-broker-ingress` Service that Brokers
 * deliver to, and the dispatcher StatefulSet that the controller's scheduler scales (shipped
 * without replicas), labelled as the Kafka webhook's pod defaulting selects it.
 */
import { KNATIVE_RELEASE_REGISTRY } from "../../components/platform/versions.ts";
import { type Obj, digestImage, service, workload } from "./objects.ts";

const EVENTING = "knative-eventing";

export function kafkaDataPlaneStandIn(version: string): Obj[] {
    const image = (name: string) =>
        digestImage(`${KNATIVE_RELEASE_REGISTRY}/knative.dev/eventing-kafka-broker/data-plane/${name}:v${version}`);
    const labels = { "app.kubernetes.io/version": version };
    return [
        workload("kafka-broker-receiver", EVENTING, {
            image: image("receiver"),
            labels,
            ports: [{ name: "http", containerPort: 8080 }],
        }),
        service("kafka-broker-ingress", EVENTING, "kafka-broker-receiver", [
            { name: "http", port: 80, targetPort: 8080 },
        ]),
        workload("kafka-broker-dispatcher", EVENTING, {
            kind: "StatefulSet",
            replicas: 0,
            labels: { ...labels, "app.kubernetes.io/kind": "kafka-dispatcher" },
            image: image("dispatcher"),
        }),
    ];
}
