//@ flags: --many-seeds 0..16
// Asterinas commit 7966719e6 ("Wrap mutable data into `UnsafeCell`"): the fix of before.ts. The
// changing fields move into `inner: UnsafeCell<PageTablePageMetaInner>`, and `Page::meta_mut` is
// gone: the lock holder takes `&mut *self.page.meta().inner.get()` (`PageTableNode::meta_mut`).
// A `&PageTablePageMeta` now covers only an atomic and a cell, so it asserts nothing about the
// counters; the `&mut` covers only `inner`, which only the lock holder touches, after an Acquire
// that pairs with the previous holder's Release.
import { AtomicU8, array, cell, spawn, spin_loop, static_, struct, u16, u8, type Ptr, type Ref, type RefMut } from "kmiri/rt";

/** `PageTablePageMeta` after the fix, and its `PageTablePageMetaInner`. */
const PageTablePageMetaInner = struct("PageTablePageMetaInner", { level: u8, nr_children: u16 });
const PageTablePageMeta = struct("PageTablePageMeta", { lock: AtomicU8, inner: cell(PageTablePageMetaInner) });
type InnerV = { level: number; nr_children: number };
type MetaV = { lock: number; inner: InnerV };
const Slot = struct("MetaSlot", { storage: cell(array(u8, 8)) });
const SLOT = static_(Slot, { storage: new Array<number>(8).fill(0) }, { name: "FRAME_METADATA" });

/** `Page<PageTablePageMeta>`: a pointer to the metadata slot. */
interface Page {
  ptr: Ptr<MetaV>;
}

/** `Page::meta`: `&*(self.ptr as *const M)`. */
function meta(page: Page): Ref<MetaV> {
  unsafe: {
    return page.ptr.as_ref();
  }
}

/** `PageTableNode::meta_mut`: `&mut *self.page.meta().inner.get()`; we hold the node's lock. */
function meta_mut(page: Page): RefMut<InnerV> {
  "unsafe";
  return meta(page).field("inner").get().as_mut();
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
  unsafe: {
    console.log(meta(page).field("inner").get().read().nr_children);
  }
}
