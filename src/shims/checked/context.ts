/**
 * Which Machine the checked runtime serves now. One runtime (one set of module namespaces) serves
 * every Machine of the process; the Machine activates itself (`GuestRuntime.activate`, see
 * runtime.ts) before it runs program code, and the shims read these bindings:
 *
 * - {@link current}: the host, as the memory, reference and static shims need it (a fake one in
 *   the memory tests);
 * - {@link mem}: its memory, read on every access (a live binding: one load, no property chain);
 * - {@link running}: the Machine itself, for the shims that schedule (threads, atomics, locks,
 *   panics, tests); `null` under a fake host.
 *
 * This is the one place where state is ambient: the shims are called by program code, which passes
 * no context, exactly like the functions of Rust's standard library a program calls under Miri.
 */
import type { Machine } from "../../interp/machine.js";
import type { Memory } from "../../interp/memory/memory.js";
import type { ShimHost } from "../../interp/shim-host.js";

/** The host the shims talk to. */
export let current: ShimHost = undefined as unknown as ShimHost;
/** The host's memory. */
export let mem: Memory = undefined as unknown as Memory;
/** The Machine running the program, or `null` under a host that is not one. */
export let running: Machine | null = null;

/** Makes `host` the host the shims talk to (a test's fake host: no Machine behind it). */
export function setCurrent(host: ShimHost): void {
  current = host;
  mem = host.memory;
  running = null;
}

/** Makes Machine `m` the one the shims serve (called through `GuestRuntime.activate`). */
export function activate(m: Machine): void {
  current = m;
  mem = m.memory;
  running = m;
}
