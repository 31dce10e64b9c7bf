//@ flags: --many-seeds 0..8
// The fix, Asterinas 5313689d6 ("Fix deadlock in FLUSH_OPS by disabling IRQ"): `FLUSH_OPS` and
// `PAGE_KEEPER` become `SpinLock<_, LocalIrqDisabled>`: whoever holds one has local interrupts
// off, so the flush IPI can never arrive on a CPU that holds its own queue's lock.
import { AtomicBool, array, cell, lock_acquired, lock_released, spawn, spin_loop, static_, yield_now, struct, u32, usize, type Ref } from "kmiri/rt";
import { cpu_local, current_cpu, inter_processor_call, irq_disable, irq_restore, tlb_flush_addr, tlb_flush_all_excluding_global } from "kmiri/mirch";

const FLUSH_ALL_OPS_THRESHOLD = 32;
// `SpinLock<OpsStack>` and `SpinLock<Vec<DynPage>>`, one of each per CPU (`cpu_local!`).
const OpsStack = struct("OpsStack", { size: u32, need_flush_all: u32, ops: array(usize, FLUSH_ALL_OPS_THRESHOLD) });
const FlushOps = struct("SpinLock<OpsStack>", { locked: AtomicBool, val: cell(OpsStack) });
const PageKeeper = struct("SpinLock<Vec<DynPage>>", { locked: AtomicBool, val: cell(u32) }); // the number of pages kept
const FLUSH_OPS = cpu_local(FlushOps, { locked: false, val: { size: 0, need_flush_all: 0, ops: new Array<number>(FLUSH_ALL_OPS_THRESHOLD).fill(0) } });
const PAGE_KEEPER = cpu_local(PageKeeper, { locked: false, val: 0 });
const USER_TASK_DONE = static_(AtomicBool, false, { name: "USER_TASK_DONE" });

/** `SpinLock::lock` with the `LocalIrqDisabled` guard: returns whether interrupts were enabled. */
function lock<T extends { locked: boolean }>(l: Ref<T>, class_name: string): boolean {
  const was = irq_disable();
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l, class_name);
  return was;
}
function unlock<T extends { locked: boolean }>(l: Ref<T>, irq_was_enabled: boolean): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
  irq_restore(irq_was_enabled);
}

/** `TlbFlusher::issue_tlb_flush_with(TlbFlushOp::Address(va), page)`, the multi-CPU path. */
function issue_tlb_flush_with(target_cpus: number[], va: number): void {
  "unsafe";
  for (const cpu of target_cpus) {
    const op_queue = FLUSH_OPS.on_cpu(cpu).as_ref();
    const g1 = lock(op_queue, "FLUSH_OPS");
    const keeper = PAGE_KEEPER.on_cpu(cpu).as_ref();
    const g2 = lock(keeper, "PAGE_KEEPER");
    keeper.field("val").get().write(keeper.field("val").get().read() + 1); // the page waits for the flush
    unlock(keeper, g2);
    const ops = op_queue.field("val").get();
    const size = ops.field("size").read();
    if (size < FLUSH_ALL_OPS_THRESHOLD) {
      ops.field("ops").cast(usize).add(size).write(va);
      ops.field("size").write(size + 1);
    } else {
      ops.field("need_flush_all").write(1);
    }
    unlock(op_queue, g1);
  }
}

/** The IPI handler: performs this CPU's pending flushes, then lets the kept pages go. */
function do_remote_flush(): void {
  "unsafe";
  const cpu = current_cpu();
  const op_queue = FLUSH_OPS.on_cpu(cpu).as_ref();
  const g1 = lock(op_queue, "FLUSH_OPS");
  const ops = op_queue.field("val").get();
  if (ops.field("need_flush_all").read() !== 0) tlb_flush_all_excluding_global();
  else for (let i = 0; i < ops.field("size").read(); i++) tlb_flush_addr(ops.field("ops").cast(usize).add(i).read());
  ops.field("size").write(0);
  ops.field("need_flush_all").write(0);
  const keeper = PAGE_KEEPER.on_cpu(cpu).as_ref();
  const g2 = lock(keeper, "PAGE_KEEPER");
  keeper.field("val").get().write(0); // PAGE_KEEPER.clear(): the pages are freed
  unlock(keeper, g2);
  unlock(op_queue, g1);
}

export function main(): void {
  // CPU 1 runs a user task in the address space being changed.
  const user = spawn(() => {
    for (let i = 0; i < 100 && !USER_TASK_DONE.as_ref().load("Acquire"); i++) yield_now();
  });
  // CPU 0 unmaps a page of that address space: the flush must happen on CPU 1 before the page goes.
  const va = 0x4000_0000;
  unsafe: {
    issue_tlb_flush_with([1], va);
  }
  inter_processor_call(() => { // dispatch_tlb_flush
    unsafe: { do_remote_flush(); }
  }, [1]);
  USER_TASK_DONE.as_ref().store(true, "Release");
  user.join();
  unsafe: {
    const keeper = PAGE_KEEPER.on_cpu(1).as_ref();
    const g = lock(keeper, "PAGE_KEEPER");
    console.log(`pages still kept for CPU 1: ${keeper.field("val").get().read()}`);
    unlock(keeper, g);
  }
}
