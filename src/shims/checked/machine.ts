/** The running Machine, for the shims that need more than the ShimHost surface (threads, tests). */
import { current } from "../../interp/host.js";
import type { Machine } from "../../interp/machine.js";

/** The Machine running the program now. */
export function machine(): Machine {
  return current as Machine;
}
