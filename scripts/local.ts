/** Where the local simulated cluster and the state of the stacks deployed to it live. */
import { resolve } from "node:path";

export const LOCAL_CLUSTER_DIR = resolve(".cache/local-cluster");
