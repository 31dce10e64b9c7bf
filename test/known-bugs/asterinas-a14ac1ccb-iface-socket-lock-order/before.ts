//@ flags: --many-seeds 0..8
// Asterinas `kernel/aster-nix/src/net/iface/common.rs` before a14ac1ccb (2024-07-29): the network
// interface keeps smoltcp's `Interface` and its `SocketSet` under two spin locks (both taken with
// local IRQs disabled). `IfaceCommon::poll`, run by the polling thread, takes `interface` then
// `sockets`; `AnyBoundSocket::do_connect` takes `sockets` then `interface`. Two CPUs running them at
// once can deadlock. Here the polling thread finishes before the connect starts, so nothing hangs;
// lockdep still sees the inversion.
import { AtomicBool, cell, lock_acquired, lock_released, spawn, spin_loop, static_, struct, u32, type Ref } from "kmiri/rt";
import { irq_disable, irq_restore } from "kmiri/mirch";

const SpinLock = struct("SpinLock", { locked: AtomicBool, data: cell(u32) });
type Lock = Ref<{ locked: boolean; data: number }>;

// `IfaceCommon`'s two locks; the `u32`s stand for smoltcp's state behind them.
const INTERFACE = static_(SpinLock, { locked: false, data: 0 }, { name: "IFACE_INTERFACE" });
const SOCKETS = static_(SpinLock, { locked: false, data: 0 }, { name: "IFACE_SOCKETS" });

/** OSTD's `SpinLockGuard<T, LocalIrqDisabled>`: releasing it restores the IRQ state. */
class SpinLockGuard {
  constructor(private readonly lock: Lock, private readonly irq_was_enabled: boolean) {}
  get(): number {
    unsafe: { return this.lock.field("data").get().read(); }
  }
  set(v: number): void {
    unsafe: { this.lock.field("data").get().write(v); }
  }
  drop(): void {
    lock_released(this.lock);
    this.lock.field("locked").store(false, "Release");
    irq_restore(this.irq_was_enabled);
  }
}

/** `SpinLock::lock_irq_disabled`. */
function lock_irq_disabled(lock: Lock, class_name: string): SpinLockGuard {
  const was = irq_disable();
  while (!lock.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(lock, class_name); //~ ERROR: lock-order
  return new SpinLockGuard(lock, was);
}

/** `IfaceCommon::poll`: smoltcp's `Interface::poll` over the socket set. */
function poll(): void {
  const iface = lock_irq_disabled(INTERFACE.as_ref(), "IfaceCommon::interface");
  const sockets = lock_irq_disabled(SOCKETS.as_ref(), "IfaceCommon::sockets");
  iface.set(iface.get() + 1); // egress and ingress: both states change
  sockets.set(sockets.get() + 1);
  // drop sockets here to avoid deadlock
  sockets.drop();
  iface.drop();
}

/** `AnyBoundSocket::do_connect`: the TCP socket's `connect` needs the interface's context. */
function do_connect(): void {
  const sockets = lock_irq_disabled(SOCKETS.as_ref(), "IfaceCommon::sockets");
  const iface_inner = lock_irq_disabled(INTERFACE.as_ref(), "IfaceCommon::interface");
  sockets.set(sockets.get() + 1); // the SYN is queued with the interface's context
  iface_inner.drop();
  sockets.drop();
}

export function main(): void {
  spawn(poll, { name: "iface-poller" }).join(); // the background polling thread, one round
  do_connect(); // a task's connect(2)
  unsafe: {
    console.log(`interface changes ${INTERFACE.as_ref().field("data").get().read()}, socket changes ${SOCKETS.as_ref().field("data").get().read()}`);
  }
}
