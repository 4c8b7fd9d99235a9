/**
 * Builds (once, from the Go module proxy, into the user's cache) every piece of the local
 * toolchain the end-to-end files use, before they start: files run two at a time, and two
 * builds of one piece at once would race for its output.
 */
import { toolchain } from "../toolchain/toolchain.ts";

export default function setup(): void {
    toolchain("engine");
    toolchain("cluster");
    toolchain("judge");
}
