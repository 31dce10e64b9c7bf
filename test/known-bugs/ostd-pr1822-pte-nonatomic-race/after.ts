//@ flags: --many-seeds 0..16
// Asterinas PR #1822 (commit 5834f299b): the fix of before.ts. Every page-table entry is read and
// written with an atomic instruction, `load_pte` / `store_pte` (`AtomicUsize::from_ptr`): the
// lock-free descent loads with Acquire, `write_pte` stores with Release (which also publishes the
// new table's zeroed contents to the walker), `read_pte` under the lock loads Relaxed.
import { AtomicU8, AtomicUsize, array, spawn, spin_loop, static_, type Ordering } from "kmiri/rt";
import {
  PAGE_SIZE, PteFlags, VMALLOC_BASE, alloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr,
  pte_index, pte_new, pte_paddr, retype_pages,
} from "kmiri/mirch";

const TABLE = PteFlags.VALID | PteFlags.WRITABLE;
const LEAF = PteFlags.VALID | PteFlags.READABLE | PteFlags.WRITABLE;
const NR_FRAMES = 8;
const RAM = memory_regions().find((r) => r.kind === "ram")!.start;
/** Each node's lock (`PageTablePageMeta::lock`), by frame number. */
const LOCKS = static_(array(AtomicU8, NR_FRAMES), new Array<number>(NR_FRAMES).fill(0), { name: "NODE_LOCKS" });
let next_frame = 0;

/** A frame from the frame allocator: zeroed, and typed `page-table` when asked. */
function alloc_frame(page_table: boolean): number {
  const paddr = RAM + next_frame++ * PAGE_SIZE; // a bump allocator (its lock left out)
  unsafe: {
    alloc_pages(paddr, 1);
    memset_volatile(paddr_to_vaddr(paddr), 0, PAGE_SIZE);
    if (page_table) retype_pages(paddr, 1, "page-table");
  }
  return paddr;
}
function lock(node: number): void {
  const l = LOCKS.as_ref().index((node - RAM) / PAGE_SIZE);
  while (!l.compare_exchange(0, 1, "Acquire", "Relaxed").ok) spin_loop();
}
function unlock(node: number): void {
  LOCKS.as_ref().index((node - RAM) / PAGE_SIZE).store(0, "Release");
}

/** `load_pte(ptr, ordering)`: `AtomicUsize::from_ptr(ptr.cast()).load(ordering)`. */
function load_pte(paddr: number, ordering: Ordering): number {
  unsafe: {
    return phys_ptr(paddr, AtomicUsize).as_ref().load(ordering);
  }
}
/** `store_pte(ptr, new_val, ordering)`. */
function store_pte(paddr: number, pte: number, ordering: Ordering): void {
  unsafe: {
    phys_ptr(paddr, AtomicUsize).as_ref().store(pte, ordering);
  }
}
/** `PageTableNode::read_pte` (the node is locked). */
function read_pte(node: number, idx: number): number {
  return load_pte(node + 8 * idx, "Relaxed");
}
/** `PageTableNode::write_pte` (the node is locked). */
function write_pte(node: number, idx: number, pte: number): void {
  store_pte(node + 8 * idx, pte, "Release");
}

/** `Cursor::new(pt, va..va + PAGE_SIZE)`: the lock-free descent, then the lock. Returns the locked node. */
function cursor_new(root: number, va: number): { node: number; level: number } {
  let node = root;
  let level = 4;
  while (level > 1) {
    const pte = load_pte(node + 8 * pte_index(va, level), "Acquire");
    if ((pte & PteFlags.VALID) === 0) break;
    node = pte_paddr(pte);
    level -= 1;
  }
  lock(node);
  return { node, level };
}

/** `CursorMut::map` of one page: creates the missing tables under the locked node, then the leaf. */
function map(root: number, va: number, frame: number): void {
  let { node, level } = cursor_new(root, va);
  const locked = [node];
  for (; level > 1; level--) {
    const idx = pte_index(va, level);
    let pte = read_pte(node, idx);
    if ((pte & PteFlags.VALID) === 0) {
      const child = alloc_frame(true);
      LOCKS.as_ref().index((child - RAM) / PAGE_SIZE).store(1, "Relaxed"); // `PageTableNode::alloc`: it starts locked
      pte = pte_new(child, TABLE);
      write_pte(node, idx, pte);
      locked.push(child);
    }
    node = pte_paddr(pte);
  }
  write_pte(node, pte_index(va, 1), pte_new(frame, LEAF));
  for (const n of locked.reverse()) unlock(n);
}

export function main(): void {
  // A kernel page table with the upper levels in place down to a level-2 node.
  const root = alloc_frame(true);
  map(root, VMALLOC_BASE + 0x20_0000, alloc_frame(false));
  const a = spawn(() => map(root, VMALLOC_BASE, alloc_frame(false)));
  const b = spawn(() => {
    const cursor = cursor_new(root, VMALLOC_BASE + PAGE_SIZE);
    unlock(cursor.node);
  });
  a.join();
  b.join();
}
