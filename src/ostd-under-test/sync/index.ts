// OSTD's `sync/mod.rs`: the synchronization primitives the mm, dma and io modules use.
//
// `Mutex` is the `spin::Mutex` (a spin lock) that OSTD's `mm/frame/allocator.rs` uses for its early
// allocator; here it is the `SpinLock`. OSTD's sleeping `Mutex`, `RwMutex`, `RwArc` and wait queues
// need a scheduler that Mirch does not have and are not ported.
export { SpinLock, SpinLockGuard } from "./spin.js";
export { SpinLock as Mutex } from "./spin.js";
export { RwLock, RwLockReadGuard, RwLockWriteGuard, RwLockUpgradeableGuard } from "./rwlock.js";
export { LocalIrqDisabled, PreemptDisabled, WriteIrqDisabled, DisabledLocalIrqGuard, type AtomicModeGuard, type SpinGuardian } from "./guard.js";
export { disable_preempt, DisabledPreemptGuard, in_atomic_mode } from "./preempt.js";
export {
  Rcu,
  RcuOption,
  RcuReadGuard,
  RcuOptionReadGuard,
  RcuDrop,
  RcuReadLockGuard,
  BoxPtr,
  ArcPtr,
  call_rcu,
  finish_grace_period,
  rcu_barrier,
  rcu_read_lock,
  synchronize_rcu,
  init,
  type NonNullPtr,
} from "./rcu.js";
export { Arc, Weak } from "./arc.js";
