// OSDK's `heap-allocator/src/slab_counter.rs` (osdk/deps/heap-allocator), re-written for kmiri: a
// per-CPU counter, cheap to update and slow (and approximate) to read, and the counter of the
// bytes the slab caches hold (`TOTAL_SLAB_ALLOCATED`, a static of the crate's `lib.rs`, kept here
// so that the slab caches and the crate root need not import each other).
//
// Design. The per-CPU values are `AtomicIsize`s in CPU-local storage (checked memory). kmiri has no
// signed atomics, so each is an `AtomicU64` read as a two's-complement `i64`: adding on one CPU
// and subtracting on another may take one CPU's value below zero (it wraps), the sum stays right.
import { AtomicU64 } from "kmiri/rt";
import { cpu_local, current_cpu, num_cpus, type CpuLocal } from "../../../arch/cpu.js";
import { DisabledLocalIrqGuard } from "../../../sync/guard.js";

/** A fast, SMP-friendly per-CPU counter (`SlabCounter`). */
export class SlabCounter {
  constructor(private readonly per_cpu_counter: CpuLocal<bigint>) {}

  /** `add`: on the current CPU. */
  add(delta: number): void {
    const guard = DisabledLocalIrqGuard.disable_local();
    unsafe: {
      // SAFETY: a CPU-local atomic that lives as long as the Machine, accessed only atomically.
      this.per_cpu_counter.on_cpu(current_cpu()).as_ref().fetch_add(BigInt(delta), "Relaxed");
    }
    guard.release();
  }

  /** `sub`: on the current CPU. */
  sub(delta: number): void {
    const guard = DisabledLocalIrqGuard.disable_local();
    unsafe: {
      // SAFETY: as in `add`.
      this.per_cpu_counter.on_cpu(current_cpu()).as_ref().fetch_sub(BigInt(delta), "Relaxed");
    }
    guard.release();
  }

  /** `get`: the sum over all CPUs (a negative sum reads as 0). */
  get(): number {
    let total = 0n;
    for (let cpu = 0; cpu < num_cpus(); cpu++) {
      unsafe: {
        // SAFETY: as in `add`; other CPUs' values are read atomically too.
        total = BigInt.asIntN(64, total + BigInt.asIntN(64, this.per_cpu_counter.on_cpu(cpu).as_ref().load("Relaxed")));
      }
    }
    return total < 0n ? 0 : Number(total);
  }
}

/** `LOCAL_TOTAL_SLAB_ALLOCATED`: the per-CPU parts. */
const LOCAL_TOTAL_SLAB_ALLOCATED = cpu_local(AtomicU64, 0n);

/** `TOTAL_SLAB_ALLOCATED`: bytes of physical memory committed to the slab caches. */
export const TOTAL_SLAB_ALLOCATED = new SlabCounter(LOCAL_TOTAL_SLAB_ALLOCATED);
