/** Upstream CustomResourceDefinitions: how the platform lets go of them. */
import type * as pulumi from "@pulumi/pulumi";

export const CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";

/**
 * Lets go of CRDs instead of deleting them. Deleting a CRD deletes every object of its kind in every
 * namespace: a platform `destroy`, or an upgrade whose manifest drops a CRD, would take every app team's
 * objects of that kind with it (Knative Services, Triggers, ServiceMonitors), from namespaces the platform
 * retains. Helm never deletes a chart's CRDs for the same reason. The platform's next `up` takes them back
 * (server-side apply adopts what exists).
 * @see https://helm.sh/docs/chart_best_practices/custom_resource_definitions/
 */
export const keepCrds: pulumi.ResourceTransform = ({ type, props, opts }) =>
    type === CRD_TYPE ? { props, opts: { ...opts, retainOnDelete: true } } : undefined;
