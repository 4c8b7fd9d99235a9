import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The field manager under which Kubernetes' ClusterRole aggregation controller applies an aggregated role's rules. */
export const AGGREGATION_CONTROLLER = "clusterrole-aggregation-controller";

export const AGGREGATED_ROLES_POLICY = "aggregated-cluster-roles-stay-deleted";

/**
 * Keeps a deleted aggregated ClusterRole deleted. Kubernetes' ClusterRole aggregation controller writes
 * an aggregated role's rules by server-side apply, and an apply creates what does not exist: when a role
 * and the roles it selects are deleted together (as a platform `destroy` deletes Knative's, or a
 * `kubectl delete -f` of a Knative release), the controller, still finding the role in its cache, applies
 * the shrunken rules after the role is gone and brings back a role of rules only, owned by nothing.
 * An admission policy of the API server's own refuses a ClusterRole created under that controller's field
 * manager, which never creates one on purpose; the controller then reads its cache again and finds the
 * role gone. Knative's components depend on this one, so a `destroy` deletes it after their roles.
 *
 * ```ts
 * const guard = new AggregatedRolesGuard("aggregated-roles");
 * new KnativeServing("knative-serving", servingArgs, { dependsOn: [guard] });
 * ```
 * @see https://github.com/kubernetes/kubernetes/blob/v1.34.4/pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go
 * @see https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/
 */
export class AggregatedRolesGuard extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("serverless-platform:cluster:AggregatedRolesGuard", name, {}, opts);
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            `${name}-policy`,
            {
                metadata: { name: AGGREGATED_ROLES_POLICY },
                spec: {
                    failurePolicy: "Fail",
                    matchConstraints: {
                        resourceRules: [
                            {
                                apiGroups: ["rbac.authorization.k8s.io"],
                                apiVersions: ["v1"],
                                operations: ["CREATE"],
                                resources: ["clusterroles"],
                            },
                        ],
                    },
                    validations: [
                        {
                            expression: `!has(object.metadata.managedFields) || !object.metadata.managedFields.exists(f, f.manager == '${AGGREGATION_CONTROLLER}')`,
                            messageExpression: `'ClusterRole ' + object.metadata.name + ' was deleted: the ${AGGREGATION_CONTROLLER} fills in the rules of aggregated roles that exist, and creates none'`,
                            reason: "Forbidden",
                        },
                    ],
                },
            },
            { parent: this },
        );
        new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
            `${name}-binding`,
            {
                metadata: { name: AGGREGATED_ROLES_POLICY },
                spec: { policyName: AGGREGATED_ROLES_POLICY, validationActions: ["Deny"] },
            },
            { parent: this, dependsOn: [policy] },
        );
        this.registerOutputs({});
    }
}
