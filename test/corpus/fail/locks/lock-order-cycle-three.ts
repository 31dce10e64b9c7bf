//@ flags: --preemption-rate 0
// A cycle through three lock classes, each pair taken in a consistent order by its own path:
// vm_space → page_table, page_table → frame_alloc, frame_alloc → vm_space. No two paths invert a
// pair, yet the three together can deadlock on three CPUs; lockdep reports the chain.
import { AtomicBool, Box, lock_acquired, lock_released, spawn, spin_loop, struct, type Ref } from "kmiri/rt";

const SpinLock = struct("SpinLock", { locked: AtomicBool });
type Lock = Ref<{ locked: boolean }>;

function lock(l: Lock, class_name: string): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l, class_name); //~ ERROR: lock-order
}

function unlock(l: Lock): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

export function main(): void {
  const vm = Box.new(SpinLock, { locked: false });
  const pt = Box.new(SpinLock, { locked: false });
  const fa = Box.new(SpinLock, { locked: false });
  const nested = (a: Lock, an: string, b: Lock, bn: string) => () => {
    lock(a, an);
    lock(b, bn);
    unlock(b);
    unlock(a);
  };
  spawn(nested(vm.as_ref(), "vm_space", pt.as_ref(), "page_table")).join();
  spawn(nested(pt.as_ref(), "page_table", fa.as_ref(), "frame_alloc")).join();
  spawn(nested(fa.as_ref(), "frame_alloc", vm.as_ref(), "vm_space")).join();
  vm.drop();
  pt.drop();
  fa.drop();
}
