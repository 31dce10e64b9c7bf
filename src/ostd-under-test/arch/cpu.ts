// The CPU part of OSTD's `arch` and `cpu` modules on Mirch: which CPU runs, how many there are,
// and CPU-local storage (`cpu_local!`). A `kmiri/rt` thread is a CPU (main is CPU 0).
import type { Layout, Ptr } from "kmiri/rt";
import * as mirch from "kmiri/mirch";

/** The id of the running CPU (OSTD's `CpuId::current`; valid while the caller cannot migrate). */
export function current_cpu(): number {
  return mirch.current_cpu();
}

/** The number of CPUs (OSTD's `num_cpus()`). */
export function num_cpus(): number {
  return mirch.num_cpus();
}

/** A per-CPU variable: one instance of a layout on each CPU. */
export interface CpuLocal<T> {
  /** The current CPU's instance (valid while interrupts are disabled or the thread is pinned). */
  as_ptr(): Ptr<T>;
  /** CPU `cpu`'s instance (`get_on_cpu`). */
  on_cpu(cpu: number): Ptr<T>;
}

/** `cpu_local!`: one instance of `layout` per CPU, each starting as `init`. Never freed (a static). */
export function cpu_local<T>(layout: Layout<T>, init: T): CpuLocal<T> {
  return mirch.cpu_local(layout, init);
}

/** Runs `f` on every other CPU (or on `cpus`) in interrupt context (OSTD's `inter_processor_call`). */
export function inter_processor_call(f: () => void, cpus?: readonly number[]): void {
  mirch.inter_processor_call(f, cpus);
}
