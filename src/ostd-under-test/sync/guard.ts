// OSTD's `sync/guard.rs`: the guardians that say what a spin-based lock guard keeps disabled while
// the lock is held — preemption (`PreemptDisabled`), local interrupts (`LocalIrqDisabled`), or
// interrupts for writers and preemption for readers (`WriteIrqDisabled`, for a `RwLock` whose read
// side interrupt handlers take).
import { panic } from "kmiri/rt";
import { irq_disable_local, irq_restore_local } from "../arch/irq.js";
import { disable_preempt, type DisabledPreemptGuard } from "./preempt.js";

/** A guard a guardian hands out: dropped with `release()`, moved with `transfer_to()`. */
export interface AtomicModeGuard {
  /** OSTD's `GuardTransfer::transfer_to`: a new guard; the old one must be released right after. */
  transfer_to(): AtomicModeGuard;
  /** The guard's drop. */
  release(): void;
}

/** OSTD's `DisabledLocalIrqGuard`: local interrupts stay off until `release()` restores them. */
export class DisabledLocalIrqGuard implements AtomicModeGuard {
  private released = false;
  private constructor(private was_enabled: boolean) {}

  /** OSTD's `irq::disable_local()`. */
  static disable_local(): DisabledLocalIrqGuard {
    return new DisabledLocalIrqGuard(irq_disable_local());
  }

  transfer_to(): DisabledLocalIrqGuard {
    // The new guard takes over the state to restore; this one then restores nothing.
    const g = new DisabledLocalIrqGuard(this.was_enabled);
    this.was_enabled = false;
    return g;
  }

  release(): void {
    if (this.released) panic("DisabledLocalIrqGuard released twice");
    this.released = true;
    irq_restore_local(this.was_enabled);
  }
}

/** A preemption guard seen as an {@link AtomicModeGuard}. */
class PreemptGuard implements AtomicModeGuard {
  constructor(private readonly g: DisabledPreemptGuard) {}
  transfer_to(): PreemptGuard {
    return new PreemptGuard(this.g.transfer_to());
  }
  release(): void {
    this.g.release();
  }
}

/** OSTD's `SpinGuardian`: the guard of a (write or upgradeable) lock and that of a read lock. */
export interface SpinGuardian {
  readonly name: "PreemptDisabled" | "LocalIrqDisabled" | "WriteIrqDisabled";
  guard(): AtomicModeGuard;
  read_guard(): AtomicModeGuard;
}

/** Preemption disabled while the lock is held (the default guardian). */
export const PreemptDisabled: SpinGuardian = {
  name: "PreemptDisabled",
  guard: () => new PreemptGuard(disable_preempt()),
  read_guard: () => new PreemptGuard(disable_preempt()),
};

/** Local interrupts disabled while the lock is held. */
export const LocalIrqDisabled: SpinGuardian = {
  name: "LocalIrqDisabled",
  guard: () => DisabledLocalIrqGuard.disable_local(),
  read_guard: () => DisabledLocalIrqGuard.disable_local(),
};

/**
 * Local interrupts disabled while the write lock is held, preemption only while a read lock is
 * (interrupt handlers may take the read lock, never the write lock).
 */
export const WriteIrqDisabled: SpinGuardian = {
  name: "WriteIrqDisabled",
  guard: () => DisabledLocalIrqGuard.disable_local(),
  read_guard: () => new PreemptGuard(disable_preempt()),
};
