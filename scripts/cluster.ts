/**
 * `npm run cluster -- start|stop|status|delete`: the local simulated cluster that stacks naming no
 * cluster deploy to. `stop` keeps its data (the next `start` resumes it, and the local state
 * backend still matches it); `delete` removes the cluster and the local stacks' state with it.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { localClusterStatus, startLocalCluster, stopLocalCluster } from "../toolchain/local-cluster.ts";
import { LOCAL_CLUSTER_DIR } from "./local.ts";

const dir = join(LOCAL_CLUSTER_DIR, "cluster");
const command = process.argv[2];
const say = (line: string) => {
    console.log(line);
};

switch (command) {
    case "start": {
        const cluster = await startLocalCluster(dir, say);
        say(`kubeconfig: ${cluster.kubeconfig}`);
        break;
    }
    case "stop":
        await stopLocalCluster(dir);
        say("local cluster: stopped (its data is kept; `npm run cluster -- delete` removes it)");
        break;
    case "status": {
        const status = await localClusterStatus(dir);
        say(`local cluster: ${status.state}${status.api !== undefined ? ` (${status.api})` : ""}`);
        break;
    }
    case "delete":
        await stopLocalCluster(dir, { remove: true });
        // The local stacks' state describes objects of the deleted cluster: it goes too.
        rmSync(LOCAL_CLUSTER_DIR, { recursive: true, force: true });
        say("local cluster: deleted, with the local stacks' state");
        break;
    default:
        console.error("usage: npm run cluster -- start|stop|status|delete");
        process.exit(2);
}
