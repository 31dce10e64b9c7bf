// OSTD's `task/preempt` as far as the sync primitives need it: `disable_preempt()` and its guard,
// counted per CPU (OSTD's `inc_guard_count` / `dec_guard_count`). Mirch has no kernel preemption,
// so the count does not stop a scheduler; what reads it is RCU (`sync/rcu.ts`): a CPU whose count
// is non-zero is in *atomic mode*, an RCU read-side critical section, and cannot be quiescent. So
// a spin-lock guard protects RCU reads as in OSTD (`Rcu::read_with(&guard)`).
//
// The count is a CPU-local atomic in kmiri memory. Entering uses `ordering` (Relaxed for lock
// guards, Acquire for RCU readers); leaving uses Release, so that everything the CPU did in the
// section happens before an RCU quiescent-state report that reads the count back as zero (the
// report runs in an interrupt handler on the same CPU, which the race detector treats as another
// actor: see `sync/rcu.ts`).
import { AtomicUsize, panic, type Ref } from "kmiri/rt";
import { cpu_local } from "./cpu.js";

/** The per-CPU guard count (OSTD's `PREEMPT_INFO` guard count). */
export const PREEMPT_COUNT = cpu_local(AtomicUsize, 0);

/** The current CPU's count. */
export function preempt_count(): Ref<number> {
  unsafe: {
    // SAFETY: a CPU-local variable of the running CPU (Mirch threads never migrate), made by
    // `cpu_local` and never freed; it is only accessed atomically.
    return PREEMPT_COUNT.as_ptr().as_ref();
  }
}

/** Whether the current CPU is in atomic mode (holds a preemption or lock guard). */
export function in_atomic_mode(): boolean {
  return preempt_count().load("Relaxed") !== 0;
}

/** OSTD's `DisabledPreemptGuard`: `release()` is its drop; `transfer_to()` a new guard. */
export class DisabledPreemptGuard {
  private released = false;

  /** @internal use {@link disable_preempt}. */
  constructor(acquire: boolean) {
    preempt_count().fetch_add(1, acquire ? "Acquire" : "Relaxed");
  }

  /** OSTD's `GuardTransfer::transfer_to`: a new guard, the old one to be released right after. */
  transfer_to(): DisabledPreemptGuard {
    return new DisabledPreemptGuard(false);
  }

  /** Drops the guard (`dec_guard_count`); returns whether the count reached zero. */
  release(): boolean {
    if (this.released) panic("DisabledPreemptGuard released twice");
    this.released = true;
    const prev = preempt_count().fetch_sub(1, "Release");
    if (prev === 0) panic("preemption guard count underflow");
    return prev === 1;
  }
}

/** Disables preemption (OSTD's `disable_preempt()`). */
export function disable_preempt(): DisabledPreemptGuard {
  return new DisabledPreemptGuard(false);
}
