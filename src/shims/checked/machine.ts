/** The running Machine, for the shims that need more than the ShimHost surface (threads, tests). */
import type { Machine } from "../../interp/machine.js";
import { running } from "./context.js";

/** The Machine running the program now (an internal error under a host that is not a Machine). */
export function machine(): Machine {
  if (running === null) throw new Error("kmiri internal error: this shim needs a Machine, and none is running");
  return running;
}
