import * as pulumi from "@pulumi/pulumi";
import { isPlainObject } from "./plain-object.ts";

/**
 * The annotation the Kubernetes provider reads a resource's server-side apply field manager from; without it, the
 * provider draws a random name for each resource it creates and keeps it in the state.
 * @see https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
 */
export const FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager";

/** Kubernetes caps a field manager's name at 128 characters. */
const MAX_FIELD_MANAGER_LENGTH = 128;

/** The field manager of every object a stack applies: the stack's project and name. */
export function stackFieldManager(project = pulumi.getProject(), stack = pulumi.getStack()): string {
    return `${project}/${stack}`.slice(0, MAX_FIELD_MANAGER_LENGTH);
}

/**
 * Applies every Kubernetes object of the stack under one field manager, `manager`, instead of a random name per
 * resource. A run that dies after the API server stored an object but before the state recorded it leaves the
 * object owned by a random name no later run uses: the next run takes the object over under a new one, and its
 * apply conflicts wherever the API server filled a default into a field it treats as a whole (istio-cni's
 * `fieldRef`s gain `apiVersion: v1`, Istio's webhook `rules` a `scope`), so the stack cannot take back its own
 * object. Under one name the next run's apply is the same manager's, and it converges.
 *
 * Patches keep their own random names and force their fields: two of a stack's resources applying to one object
 * (Knative's ConfigMap and the patch of its settings) under one name would each drop the other's fields.
 */
export function oneFieldManager(manager: string): pulumi.ResourceTransform {
    return ({ type, custom, props, opts }) => {
        const metadata: unknown = props.metadata;
        const isObject = custom && type.startsWith("kubernetes:") && !type.endsWith("Patch");
        if (!isObject || !isPlainObject(metadata)) return undefined;
        const annotations: unknown = metadata.annotations ?? {};
        if (!isPlainObject(annotations) || annotations[FIELD_MANAGER_ANNOTATION] !== undefined) return undefined;
        return {
            props: {
                ...props,
                metadata: { ...metadata, annotations: { ...annotations, [FIELD_MANAGER_ANNOTATION]: manager } },
            },
            opts,
        };
    };
}
