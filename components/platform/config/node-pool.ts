/** The `nodePool` config key: the nodes the environment's cluster gives the platform and the app teams. */
import { type ValueOf, quantity, section, wholeNumber } from "./schema.ts";

export const NODE_POOL_SCHEMA = section(
    "the cluster's worker nodes, all of one size: every pod of the platform (sidecars included) and every app namespace's quota must fit, or the preview is refused",
    {
        nodes: wholeNumber("how many nodes", 3, 1),
        cpu: quantity("each node's allocatable CPU (what its kubelet reports, after system reservations)", "8", '"8"'),
        memory: quantity("each node's allocatable memory", "32Gi", '"32Gi"'),
    },
);

export type NodePool = ValueOf<typeof NODE_POOL_SCHEMA.fields>;
