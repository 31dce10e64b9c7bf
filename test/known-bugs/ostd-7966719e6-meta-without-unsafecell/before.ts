//@ flags: --many-seeds 0..16
// Asterinas commit 7966719e6 ("Wrap mutable data into `UnsafeCell`"), before the fix
// (ostd/src/mm/page/meta.rs, ostd/src/mm/page_table/node.rs). A page-table page's metadata was
// `PageTablePageMeta { lock: AtomicU8, level: u8, nr_children: u16 }`, with no `UnsafeCell` around
// the fields that change. Every CPU reaches it through `Page::meta(&self) -> &M`; the CPU holding
// the node's lock changed `nr_children` through `Page::meta_mut(&mut self) -> &mut M`
// (`&mut *(self.ptr as *mut M)`), "having exclusive access to the page" — exclusive to the lock,
// not to the memory: another CPU that is taking the lock holds `&PageTablePageMeta` at that very
// moment. A shared reference asserts that its non-`UnsafeCell` bytes do not change while it
// lives (making one reads them, for Miri's race detector and kmiri's), and a `&mut` asserts that
// nothing else touches any of the bytes, the lock included. So the locker's `&M` and the holder's
// `&mut M` race.
import { AtomicU8, array, cell, spawn, spin_loop, static_, struct, u16, u8, type Ptr, type Ref, type RefMut } from "kmiri/rt";

/** `PageTablePageMeta` before the fix. */
const PageTablePageMeta = struct("PageTablePageMeta", { lock: AtomicU8, level: u8, nr_children: u16 });
type MetaV = { lock: number; level: number; nr_children: number };
const Slot = struct("MetaSlot", { storage: cell(array(u8, 8)) });
const SLOT = static_(Slot, { storage: new Array<number>(8).fill(0) }, { name: "FRAME_METADATA" });

/** `Page<PageTablePageMeta>`: a pointer to the metadata slot. */
interface Page {
  ptr: Ptr<MetaV>;
}

/** `Page::meta`: `&*(self.ptr as *const M)`. */
function meta(page: Page): Ref<MetaV> {
  unsafe: {
    return page.ptr.as_ref(); //~ ERROR: data-race
  }
}

/** `Page::meta_mut`: `&mut *(self.ptr as *mut M)`; "the caller should be sure that the page is exclusively owned". */
function meta_mut(page: Page): RefMut<MetaV> {
  "unsafe";
  return page.ptr.as_mut();
}

/** `RawPageTableNode::lock`. */
function lock(page: Page): void {
  while (!meta(page).field("lock").compare_exchange(0, 1, "Acquire", "Relaxed").ok) spin_loop();
}

/** `impl Drop for PageTableNode`: releases the lock. */
function unlock(page: Page): void {
  meta(page).field("lock").store(0, "Release");
}

/** `PageTableNode::overwrite_pte`, for a PTE that was absent: one more child. */
function add_child(page: Page): void {
  unsafe: {
    const m = meta_mut(page); // `self.page.meta_mut().nr_children += 1`
    const n = m.field("nr_children").read();
    m.field_mut("nr_children").write(n + 1);
  }
}

export function main(): void {
  const page: Page = { ptr: SLOT.as_ref().field("storage").get().cast(PageTablePageMeta) };
  // `PageTableNode::alloc(level)`: the lock is initialised as held, then the level is set.
  meta(page).field("lock").store(1, "Relaxed");
  unsafe: {
    meta_mut(page).field_mut("level").write(2);
  }
  unlock(page); // `into_raw`: the node is in the page table now
  // Two cursors map under it at once.
  const cursors = [0, 1].map(() =>
    spawn(() => {
      lock(page);
      add_child(page);
      unlock(page);
    }),
  );
  for (const c of cursors) c.join();
  console.log(meta(page).field("nr_children").read());
}
