//@ flags: --preemption-rate 0
// Declared ranks respected: `frame_alloc` (1) is always taken before `page_table` (2), and a
// lock of a lower rank is only taken after the higher one was released.
import { AtomicBool, lock_acquired, lock_class_rank, lock_released, spawn, spin_loop, static_, struct, type Ref } from "kmiri/rt";

const SpinLock = struct("SpinLock", { locked: AtomicBool });
type Lock = Ref<{ locked: boolean }>;

const FRAME_ALLOC = static_(SpinLock, { locked: false }, { name: "FRAME_ALLOC" });
const PAGE_TABLE = static_(SpinLock, { locked: false }, { name: "PAGE_TABLE" });

function lock(l: Lock, class_name: string): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l, class_name);
}

function unlock(l: Lock): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

export function main(): void {
  lock_class_rank("frame_alloc", 1);
  lock_class_rank("page_table", 2);
  const t = spawn(() => {
    lock(FRAME_ALLOC.as_ref(), "frame_alloc");
    lock(PAGE_TABLE.as_ref(), "page_table");
    unlock(PAGE_TABLE.as_ref());
    unlock(FRAME_ALLOC.as_ref());
    lock(PAGE_TABLE.as_ref(), "page_table");
    unlock(PAGE_TABLE.as_ref());
    lock(FRAME_ALLOC.as_ref(), "frame_alloc");
    unlock(FRAME_ALLOC.as_ref());
  });
  t.join();
  console.log("ranked");
}
