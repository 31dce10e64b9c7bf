// Asterinas PR #1778, after commit 16862a202 ("Use mutable pointer for kernel heap"): the fix of
// before.ts. `init` hands the allocator `HEAP_SPACE.0.as_mut_ptr()`, made through a *mutable*
// reference to the array, and `LockedHeapWithRescue::init` takes `start: *mut u8`: the exposed
// permission is SharedReadWrite, so the free list's `&mut *(addr as *mut FreeBlock)` retags and
// the blocks handed out may be written. Same model as before.ts otherwise.
import { array, null_mut, ptr, ptr_from_exposed, static_, struct, u64, u8, type Layout, type Ptr, type RefMut } from "kmiri/rt";

const BLK_SIZE = 64;
const INIT_KERNEL_HEAP_SIZE = 4 * BLK_SIZE;
/** `#[repr(align(4096))] struct InitHeapSpace([u8; INIT_KERNEL_HEAP_SIZE])`. */
const InitHeapSpace = struct("InitHeapSpace", { "0": array(u8, INIT_KERNEL_HEAP_SIZE) });
const HEAP_SPACE = static_(InitHeapSpace, { "0": new Array<number>(INIT_KERNEL_HEAP_SIZE).fill(0) }, { mut: true, name: "HEAP_SPACE" });

/** `struct FreeBlock { next: Option<&'static mut FreeBlock> }`. */
interface FreeBlockV { next: Ptr<FreeBlockV> }
const FreeBlock: Layout<FreeBlockV> = struct("FreeBlock", { next: ptr(() => FreeBlock) });

/** `FreeBlockList<BLK_SIZE>`: the head block and the length. */
interface FreeBlockList { head: RefMut<FreeBlockV> | null; len: number }

function push(list: FreeBlockList, free_block: RefMut<FreeBlockV>): void {
  "unsafe";
  free_block.field_mut("next").write(list.head === null ? null_mut(FreeBlock) : list.head.as_mut_ptr());
  list.len += 1;
  list.head = free_block;
}

function pop(list: FreeBlockList): RefMut<FreeBlockV> | null {
  "unsafe";
  const node = list.head;
  if (node === null) return null;
  const next = node.field("next").read();
  list.head = next.is_null() ? null : next.as_mut();
  list.len -= 1;
  return node;
}

/** `FreeBlockList::new`: threads the list through `[start_addr, start_addr + n * block_size)`. */
function free_block_list_new(start_addr: number, block_size: number, num_of_blocks: number): FreeBlockList {
  "unsafe";
  const list: FreeBlockList = { head: null, len: 0 };
  for (let i = num_of_blocks - 1; i >= 0; i--) {
    const new_block = ptr_from_exposed(start_addr + i * block_size, FreeBlock);
    push(list, new_block.as_mut());
  }
  return list;
}

/** The heap behind `HEAP_ALLOCATOR` (one `Slab<64>`; its lock is left out: one CPU here). */
const HEAP: { slab: FreeBlockList | null } = { slab: null };

/** `LockedHeapWithRescue::init(&self, start: *mut u8, size)`: `Heap::new(start as usize, size)`. */
function heap_init(start: Ptr<number>, size: number): void {
  "unsafe";
  HEAP.slab = free_block_list_new(start.expose_provenance(), BLK_SIZE, size / BLK_SIZE);
}

/** `heap_allocator::init`. */
function init(): void {
  "unsafe";
  heap_init(HEAP_SPACE.as_mut().field_mut("0").as_mut_ptr().cast(u8), INIT_KERNEL_HEAP_SIZE);
}

/** `GlobalAlloc::alloc` of a block: its address, as `*mut u8`. */
function heap_alloc(): Ptr<number> {
  "unsafe";
  const block = pop(HEAP.slab!)!;
  return ptr_from_exposed(block.as_mut_ptr().addr(), u8);
}

/** `GlobalAlloc::dealloc`: `push(&mut *(ptr as *mut FreeBlock))`. */
function heap_dealloc(p: Ptr<number>): void {
  "unsafe";
  push(HEAP.slab!, ptr_from_exposed(p.addr(), FreeBlock).as_mut());
}

export function main(): void {
  unsafe: {
    init();
    const p = heap_alloc().cast(u64); // a `Box<u64>`
    p.write(0xdead_beefn);
    console.log(p.read() === 0xdead_beefn);
    heap_dealloc(p.cast(u8));
  }
}
