// Declared lock ranks (`lock_class_rank`, the KMutex idea of levels): `page_table` (rank 2) must
// not be held while `frame_alloc` (rank 1) is taken. Reported the first time it happens, before
// any cycle exists, on a single CPU.
import { AtomicBool, lock_acquired, lock_class_rank, lock_released, spin_loop, static_, struct, type Ref } from "kmiri/rt";

const SpinLock = struct("SpinLock", { locked: AtomicBool });
type Lock = Ref<{ locked: boolean }>;

const FRAME_ALLOC = static_(SpinLock, { locked: false }, { name: "FRAME_ALLOC" });
const PAGE_TABLE = static_(SpinLock, { locked: false }, { name: "PAGE_TABLE" });

function lock(l: Lock, class_name: string): void {
  while (!l.field("locked").compare_exchange(false, true, "Acquire", "Relaxed").ok) spin_loop();
  lock_acquired(l, class_name); //~ ERROR: lock-order
}

function unlock(l: Lock): void {
  lock_released(l);
  l.field("locked").store(false, "Release");
}

export function main(): void {
  lock_class_rank("frame_alloc", 1);
  lock_class_rank("page_table", 2);
  lock(PAGE_TABLE.as_ref(), "page_table");
  lock(FRAME_ALLOC.as_ref(), "frame_alloc");
  unlock(FRAME_ALLOC.as_ref());
  unlock(PAGE_TABLE.as_ref());
}
