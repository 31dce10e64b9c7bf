// Tests of the kernel heap: OSTD's slabs, slots and slot lists (`ostd/src/mm/heap`, which has no
// ktests of its own), OSTD's `AllocDispatch` with its aborts, and OSDK's injected slab allocator
// (`osdk/deps/heap-allocator`) with its two ktests under their names (`slab_counter_tracks_slab_pages`,
// `alloc_dealloc_cpu_local_various_types`), plus two CPUs allocating and freeing at once (run it
// with `--many-seeds`). Every test boots first (`init()`) and gives back what it allocates.
import {
  array, assert, assert_eq, assert_ne, Box, ktest, spawn, struct, u16, u32, u64, u8, usize, type Layout, type Ptr,
} from "kmiri/rt";
import { init, set_mem_limit } from "../../boot.js";
import { PAGE_SIZE, page_state, type Paddr } from "../../arch/mm.js";
import { num_cpus } from "../../arch/cpu.js";
import { FrameAllocOptions } from "../frame/allocator.js";
import { unwrap, type Result } from "../frame/meta.js";
import type { Segment } from "../frame/segment.js";
import {
  HEAP_ALLOCATOR, HeapSlot, Slab, SlabSlotList, SlabSlotListLayout, SlotInfo, global_heap_allocator,
  global_heap_allocator_slot_map, handle_alloc_error, type AllocError, type AllocLayout, type GlobalHeapAllocator,
} from "./index.js";
import {
  HeapAllocator, OBJ_CACHE_EXPECTED_SIZE, OBJ_CACHE_MAX_SIZE, SlabCache, alloc_cpu_local, load_total_slab_size,
  local_cache_bytes, type_from_layout,
} from "./allocator/index.js";

/** `alloc(layout)` through the global allocator (`#[global_allocator]`). */
function heap_alloc(layout: AllocLayout): Ptr<number> {
  unsafe: {
    // SAFETY: every layout used here has a non-zero size.
    return HEAP_ALLOCATOR.alloc(layout);
  }
}

/** `dealloc(ptr, layout)` through the global allocator. */
function heap_dealloc(ptr: Ptr<number>, layout: AllocLayout): void {
  unsafe: {
    // SAFETY: `ptr` came from `heap_alloc(layout)` and is given back once.
    HEAP_ALLOCATOR.dealloc(ptr, layout);
  }
}

/** The page a slot lies in. */
function page_of(slot: HeapSlot): Paddr {
  return Math.floor(slot.paddr() / PAGE_SIZE) * PAGE_SIZE;
}

function expect<T>(r: Result<T, unknown>, msg: string): T {
  return unwrap(r, msg);
}

// ───────────────────────────── the global heap ─────────────────────────────

ktest("test_heap_initialization", () => {
  init();
  // (The paper branch's name for "the heap is ready after boot".) No init step: the heap's state
  // is statics, empty on a fresh Machine, and the first allocation builds what it needs.
  assert_eq(load_total_slab_size(), 0);
  assert_eq(local_cache_bytes(2048), 0);
  const layout = { size: 2048, align: 8 };
  const p = heap_alloc(layout);
  assert(!p.is_null());
  // One slab for the allocation and 4 empty ones ahead; this CPU's cache took 8 KiB of slots.
  assert_eq(load_total_slab_size(), 5 * PAGE_SIZE);
  assert_eq(local_cache_bytes(2048), OBJ_CACHE_EXPECTED_SIZE);
  heap_dealloc(p, layout);
  assert_eq(local_cache_bytes(2048), OBJ_CACHE_EXPECTED_SIZE + 2048);
});

ktest("heap_alloc_dealloc_size_classes", () => {
  init();
  // One layout per size class from 256 bytes up (the size anywhere in the class, and the class
  // edges), and a large one. The smaller classes work the same way, but their first allocation
  // fills a CPU's cache with 8 KiB of slots (1024 of the 8-byte class), one by one, which takes
  // kmiri too long for every test run: `slab_slot_sizes` makes slabs of every class and
  // `type_from_layout_classes` checks the map.
  const sizes = [129, 256, 300, 512, 1000, 1024, 1025, 2048, 2049];
  const got: { p: Ptr<number>; layout: AllocLayout }[] = [];
  for (const size of sizes) {
    const layout = { size, align: 1 };
    const slot = type_from_layout(layout)!;
    assert(slot.size() >= size && slot.size() / 2 < size, `size ${size} in slot ${slot}`);
    const p = heap_alloc(layout);
    assert(!p.is_null(), `allocation of ${size} bytes`);
    assert_eq(p.addr() % Math.min(slot.size(), PAGE_SIZE), 0);
    unsafe: {
      // SAFETY: the slot is ours and at least `size` bytes.
      p.write(size & 0xff);
      p.byte_add(size - 1).write((size >> 3) & 0xff);
    }
    got.push({ p, layout });
  }
  // No two allocations overlap: each still holds what was written.
  for (const { p, layout } of got) {
    unsafe: {
      // SAFETY: as above.
      assert_eq(p.read(), layout.size & 0xff);
      assert_eq(p.byte_add(layout.size - 1).read(), (layout.size >> 3) & 0xff);
    }
  }
  const addrs = new Set(got.map(({ p }) => p.addr()));
  assert_eq(addrs.size, got.length);
  for (const { p, layout } of got) heap_dealloc(p, layout);
  // Freed memory is reused: the per-CPU cache hands the last freed slot of a class out first.
  const last = got[got.length - 2]!;
  const again = heap_alloc(last.layout);
  assert_eq(again.addr(), last.p.addr());
  heap_dealloc(again, last.layout);
});

ktest("heap_alloc_alignment", () => {
  init();
  // An alignment up to the size keeps the size's class; a larger one picks the class of the
  // alignment. Slots are aligned to their size, so either way the object is aligned.
  for (const align of [1, 2, 4, 8, 16, 32, 64, 128, 256]) {
    const layout = { size: align <= 128 ? 200 : 8, align };
    assert_eq(type_from_layout(layout)!.size(), 256);
    const p = heap_alloc(layout);
    assert_eq(p.addr() % align, 0);
    unsafe: {
      // SAFETY: the slot is ours and at least 8 bytes.
      p.cast(u64).write(BigInt(align));
      assert_eq(p.cast(u64).read(), BigInt(align));
    }
    heap_dealloc(p, layout);
  }
  for (const align of [16, 64, 512, 1024, 2048]) assert(type_from_layout({ size: 8, align })!.eq(SlotInfo.SlabSlot(Math.max(align, 8))));
  // Page-aligned: only a large slot can be (the slab classes stop at 2048).
  const page_aligned = { size: 3000, align: PAGE_SIZE };
  assert(type_from_layout(page_aligned)!.eq(SlotInfo.LargeSlot(PAGE_SIZE)));
  const p = heap_alloc(page_aligned);
  assert_eq(p.addr() % PAGE_SIZE, 0);
  heap_dealloc(p, page_aligned);
  // Small but page-aligned, or aligned past a page: no slot fits.
  assert_eq(type_from_layout({ size: 100, align: PAGE_SIZE }), null);
  assert_eq(type_from_layout({ size: 3 * PAGE_SIZE, align: 2 * PAGE_SIZE }), null);
});

ktest.should_panic(
  "heap_alloc_without_slot_aborts",
  () => {
    init();
    heap_alloc({ size: 64, align: PAGE_SIZE });
  },
  "Heap allocation size not found for layout",
);

ktest("heap_large_allocation_uses_frames", () => {
  init();
  // Past half a page, allocations get whole frames: 3 pages and 100 bytes take 4 pages.
  const layout = { size: 3 * PAGE_SIZE + 100, align: 8 };
  assert(type_from_layout(layout)!.eq(SlotInfo.LargeSlot(4 * PAGE_SIZE)));
  const before = load_total_slab_size();
  const p = heap_alloc(layout);
  assert_eq(p.addr() % PAGE_SIZE, 0);
  let slot: HeapSlot;
  unsafe: {
    // SAFETY: a view of the allocation (for its physical address), never given back by itself.
    slot = HeapSlot.new(p, SlotInfo.LargeSlot(4 * PAGE_SIZE));
  }
  const paddr = slot.paddr();
  for (let i = 0; i < 4; i++) {
    const s = page_state(paddr + i * PAGE_SIZE);
    assert(s.state === "typed" && s.type === "slab", `page ${i} of the large slot is typed`);
  }
  unsafe: {
    // SAFETY: the allocation is ours, 4 pages long: one object across them.
    p.cast(u64).write(0x1234n);
    p.byte_add(layout.size - 4).cast(u32).write(0x5678);
    p.byte_add(2 * PAGE_SIZE - 4).cast(u32).write(0xdead_beef);
    assert_eq(p.cast(u64).read(), 0x1234n);
    assert_eq(p.byte_add(layout.size - 4).cast(u32).read(), 0x5678);
    assert_eq(p.byte_add(2 * PAGE_SIZE - 4).cast(u32).read(), 0xdead_beef);
  }
  // Large slots are not slab memory.
  assert_eq(load_total_slab_size(), before);
  heap_dealloc(p, layout);
  for (let i = 0; i < 4; i++) assert_eq(page_state(paddr + i * PAGE_SIZE).state, "free");
  // Just past half a page is large too.
  const half = { size: PAGE_SIZE / 2 + 1, align: 8 };
  assert(type_from_layout(half)!.eq(SlotInfo.LargeSlot(PAGE_SIZE)));
  const q = heap_alloc(half);
  assert_eq(q.addr() % PAGE_SIZE, 0);
  heap_dealloc(q, half);
});

ktest.should_panic(
  "heap_alloc_large_of_unaligned_size_panics",
  () => {
    init();
    HeapSlot.alloc_large(PAGE_SIZE + 8);
  },
);

ktest.should_panic(
  "heap_dealloc_large_of_slab_slot_aborts",
  () => {
    init();
    const slab = expect(Slab.new(64), "Failed to allocate a slab");
    const slot = expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
    slot.dealloc_large();
  },
  "Deallocating a large slot that was not allocated with `HeapSlot::alloc_large`",
);

ktest("type_from_layout_classes", () => {
  init();
  const cases: [number, number, SlotInfo | null][] = [
    [0, 1, SlotInfo.SlabSlot(8)],
    [8, 8, SlotInfo.SlabSlot(8)],
    [9, 1, SlotInfo.SlabSlot(16)],
    [17, 4, SlotInfo.SlabSlot(32)],
    [64, 64, SlotInfo.SlabSlot(64)],
    [65, 2, SlotInfo.SlabSlot(128)],
    [4, 128, SlotInfo.SlabSlot(128)],
    [200, 256, SlotInfo.SlabSlot(256)],
    [500, 16, SlotInfo.SlabSlot(512)],
    [513, 8, SlotInfo.SlabSlot(1024)],
    [2048, 2048, SlotInfo.SlabSlot(2048)],
    [2049, 8, SlotInfo.LargeSlot(PAGE_SIZE)],
    [PAGE_SIZE, PAGE_SIZE, SlotInfo.LargeSlot(PAGE_SIZE)],
    [5 * PAGE_SIZE - 1, 8, SlotInfo.LargeSlot(5 * PAGE_SIZE)],
    [1, 4096, null],
    [2 * PAGE_SIZE, 2 * PAGE_SIZE, null],
  ];
  for (const [size, align, want] of cases) {
    const got = type_from_layout({ size, align });
    assert(got === null ? want === null : want !== null && got.eq(want), `type_from_layout(${size}, ${align}) = ${got}, want ${want}`);
  }
  // A kmiri layout is a layout too.
  assert(type_from_layout(struct("Pair", { a: u64, b: u16 }))!.eq(SlotInfo.SlabSlot(16)));
});

// ───────────────────────────── AllocDispatch ─────────────────────────────

/** An allocator that hands out slots of the default allocator, but not the ones asked for. */
class MisbehavingAllocator implements GlobalHeapAllocator {
  private readonly inner = new HeapAllocator();
  constructor(
    /** The layout it really allocates for the one asked, or a failure. */
    private readonly wrong: (layout: AllocLayout) => AllocLayout | "fail",
    /** What it makes of the slot it got. */
    private readonly skew: (slot: HeapSlot) => HeapSlot = (slot) => slot,
  ) {}

  alloc(layout: AllocLayout): Result<HeapSlot, AllocError> {
    const asked = this.wrong(layout);
    if (asked === "fail") return { ok: false, error: "AllocError" };
    const r = this.inner.alloc(asked);
    return r.ok ? { ok: true, value: this.skew(r.value) } : r;
  }

  dealloc(slot: HeapSlot): Result<void, AllocError> {
    if (this.wrong({ size: slot.size(), align: 1 }) === "fail") return { ok: false, error: "AllocError" };
    return this.inner.dealloc(slot);
  }
}

ktest.should_panic(
  "alloc_dispatch_aborts_on_mismatched_slot",
  () => {
    init();
    // The allocator answers a 1024-byte layout with a 256-byte slot: OSTD aborts rather than hand it out.
    global_heap_allocator(new MisbehavingAllocator((layout) => ({ size: layout.size / 4, align: 1 })));
    heap_alloc({ size: 1024, align: 8 });
  },
  "Heap allocation mismatch",
);

ktest.should_panic(
  "alloc_dispatch_aborts_on_misaligned_slot",
  () => {
    init();
    // The slot map says 64 for a 32-byte layout aligned to 32, and the allocator gives a "slot" 48
    // bytes into a 128-byte one: right size, wrong alignment.
    global_heap_allocator_slot_map((layout) => (layout.align === 32 ? SlotInfo.SlabSlot(64) : type_from_layout(layout)));
    global_heap_allocator(
      new MisbehavingAllocator(
        () => ({ size: 128, align: 8 }),
        (slot) => {
          unsafe: {
            // SAFETY: not a real slot: the dispatch must refuse it before anyone uses it.
            return HeapSlot.new(slot.as_ptr().byte_add(48), SlotInfo.SlabSlot(64));
          }
        },
      ),
    );
    heap_alloc({ size: 32, align: 32 });
  },
  "Heap allocation mismatch",
);

ktest("alloc_dispatch_null_on_alloc_error", () => {
  init();
  global_heap_allocator(new MisbehavingAllocator(() => "fail"));
  const p = heap_alloc({ size: 64, align: 8 });
  assert(p.is_null(), "a failed allocation is a null pointer");
});

ktest.should_panic(
  "alloc_dispatch_aborts_on_dealloc_error",
  () => {
    init();
    global_heap_allocator(new MisbehavingAllocator((layout) => (layout.size === 512 ? "fail" : layout)));
    // Another class goes through.
    heap_dealloc(heap_alloc({ size: 2000, align: 8 }), { size: 2000, align: 8 });
    const p = heap_alloc({ size: 400, align: 4 });
    heap_dealloc(p, { size: 400, align: 4 });
  },
  "Heap deallocation error",
);

ktest.should_panic(
  "alloc_dispatch_dealloc_without_slot_aborts",
  () => {
    init();
    heap_dealloc(heap_alloc({ size: 2048, align: 8 }), { size: 2048, align: 2 * PAGE_SIZE });
  },
  "Heap deallocation size not found for layout",
);

ktest.should_panic(
  "heap_alloc_error_handler_aborts",
  () => {
    init();
    handle_alloc_error({ size: 24, align: 8 });
  },
  "Heap allocation error, layout = Layout { size: 0x18, align: 0x8 }",
);

ktest.should_panic(
  "global_heap_allocator_registered_after_use_panics",
  () => {
    init();
    heap_dealloc(heap_alloc({ size: 2048, align: 8 }), { size: 2048, align: 8 });
    global_heap_allocator(new HeapAllocator());
  },
  "the global heap allocator is registered already",
);

// ───────────────────────────── slabs and slot lists ─────────────────────────────

ktest("slab_alloc_all_slots_and_dealloc", () => {
  init();
  const slab = expect(Slab.new(64), "Failed to allocate a slab");
  const paddr = slab.paddr();
  const st = page_state(paddr);
  assert(st.state === "typed" && st.type === "slab", "a slab's page holds slots");
  const meta = Slab.meta(slab);
  assert_eq(meta.capacity(), PAGE_SIZE / 64);
  assert_eq(meta.nr_allocated(), 0);
  // Every slot of the page comes out once, each 64-byte aligned, inside the slab.
  const slots: HeapSlot[] = [];
  for (let i = 0; i < PAGE_SIZE / 64; i++) {
    const slot = expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
    assert(slot.info().eq(SlotInfo.SlabSlot(64)));
    assert_eq(page_of(slot), paddr);
    assert_eq(slot.paddr() % 64, 0);
    unsafe: {
      // SAFETY: an allocated slot is ours; 64 bytes hold 8 `u64`s.
      slot.as_ptr().cast(u64).add(7).write(BigInt(i));
    }
    slots.push(slot);
  }
  assert_eq(new Set(slots.map((s) => s.paddr())).size, slots.length);
  assert_eq(Slab.meta(slab).nr_allocated(), Slab.meta(slab).capacity());
  // Full.
  const none = Slab.meta_mut(slab).alloc();
  assert(!none.ok);
  slots.forEach((slot, i) => {
    unsafe: {
      // SAFETY: as above.
      assert_eq(slot.as_ptr().cast(u64).add(7).read(), BigInt(i));
    }
  });
  for (const slot of slots) expect(Slab.dealloc(slab, slot), "Failed to deallocate a slot");
  assert_eq(Slab.meta(slab).nr_allocated(), 0);
  slab.drop();
  assert_eq(page_state(paddr).state, "free");
});

ktest("slab_slot_sizes", () => {
  init();
  // A slab of every size class: all slots free at first, slots at multiples of the size.
  for (const size of [8, 16, 32, 64, 128, 256, 512, 1024, 2048]) {
    const slab = expect(Slab.new(size), "Failed to allocate a slab");
    assert_eq(Slab.slot_size(slab), size);
    assert_eq(Slab.meta(slab).capacity(), PAGE_SIZE / size);
    const a = expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
    const b = expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
    assert_eq(Math.abs(a.paddr() - b.paddr()), size);
    assert_eq(a.paddr() % size, 0);
    unsafe: {
      // SAFETY: both slots are ours; a slot holds at least a `u64`.
      a.as_ptr().cast(u64).write(1n);
      b.as_ptr().cast(u64).write(2n);
      assert_eq(a.as_ptr().cast(u64).read() + b.as_ptr().cast(u64).read(), 3n);
    }
    assert_eq(Slab.meta(slab).nr_allocated(), 2);
    expect(Slab.dealloc(slab, a), "Failed to deallocate a slot");
    expect(Slab.dealloc(slab, b), "Failed to deallocate a slot");
    slab.drop();
  }
});

ktest.should_panic(
  "slab_drop_with_allocated_slots_panics",
  () => {
    init();
    const slab = expect(Slab.new(128), "Failed to allocate a slab");
    expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
    slab.drop();
  },
  "1 slots allocated when dropping a slab",
);

ktest("slab_dealloc_foreign_slot_fails", () => {
  init();
  const a = expect(Slab.new(256), "Failed to allocate a slab");
  const b = expect(Slab.new(256), "Failed to allocate a slab");
  const slot = expect(Slab.meta_mut(a).alloc(), "Failed to allocate a slot");
  // `b` does not own the slot: refused, and `b` is unchanged.
  const r = Slab.dealloc(b, slot);
  assert(!r.ok && r.error === "AllocError");
  assert_eq(Slab.meta(b).nr_allocated(), 0);
  expect(Slab.dealloc(a, slot), "Failed to deallocate a slot");
  a.drop();
  b.drop();
});

ktest("slab_slot_list_push_pop", () => {
  init();
  // A slab's free list hands out its slots from the last pushed: the page's last slot first.
  const slab = expect(Slab.new(32), "Failed to allocate a slab");
  const base = slab.paddr();
  const s1 = expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
  const s2 = expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
  const s3 = expect(Slab.meta_mut(slab).alloc(), "Failed to allocate a slot");
  assert_eq(s1.paddr(), base + PAGE_SIZE - 32);
  assert_eq(s2.paddr(), base + PAGE_SIZE - 64);
  assert_eq(s3.paddr(), base + PAGE_SIZE - 96);
  // A list of our own, in memory (as an object cache keeps one): LIFO, empty at the end.
  const cell = Box.new(SlabSlotListLayout, SlabSlotList.new());
  const list = SlabSlotList.of(cell.as_mut(), 32);
  assert_eq(list.pop(), null);
  list.push(s1);
  list.push(s2);
  list.push(s3);
  const popped = [list.pop()!, list.pop()!, list.pop()!];
  assert_eq(list.pop(), null);
  assert_eq(popped.map((s) => s.paddr()).join(), [s3, s2, s1].map((s) => s.paddr()).join());
  assert(popped.every((s) => s.info().eq(SlotInfo.SlabSlot(32))));
  cell.drop();
  for (const s of popped) expect(Slab.dealloc(slab, s), "Failed to deallocate a slot");
  slab.drop();
});

ktest.should_panic(
  "slab_slot_list_push_large_slot_panics",
  () => {
    init();
    const large = expect(HeapSlot.alloc_large(PAGE_SIZE), "Failed to allocate a large slot");
    const cell = Box.new(SlabSlotListLayout, SlabSlotList.new());
    try {
      SlabSlotList.of(cell.as_mut(), 64).push(large);
    } finally {
      cell.drop();
      large.dealloc_large();
    }
  },
  "The slot does not come from a slab",
);

// ───────────────────────────── slab caches ─────────────────────────────

ktest("slab_cache_full_slab_takes_new_slab", () => {
  init();
  const before = load_total_slab_size();
  const cache = new SlabCache(512);
  const per_slab = PAGE_SIZE / 512;
  const slots: HeapSlot[] = [];
  for (let i = 0; i < per_slab; i++) slots.push(expect(cache.alloc(), "Failed to allocate a slot"));
  // The first allocation made one slab and a few empty ones ahead; filling it moved it to `full`.
  const first = page_of(slots[0]!);
  assert(slots.every((s) => page_of(s) === first), "one slab serves its slots first");
  assert_eq(JSON.stringify(cache.sizes()), JSON.stringify({ empty: 4, partial: 0, full: 1 }));
  assert_eq(load_total_slab_size(), before + 5 * PAGE_SIZE);
  // One more: a slab of its own, taken from the empty ones.
  const next = expect(cache.alloc(), "Failed to allocate a slot");
  assert_ne(page_of(next), first);
  assert_eq(JSON.stringify(cache.sizes()), JSON.stringify({ empty: 3, partial: 1, full: 1 }));
  // Back: the full slab turns partial, then empty.
  expect(cache.dealloc(slots.pop()!), "Failed to deallocate a slot");
  assert_eq(JSON.stringify(cache.sizes()), JSON.stringify({ empty: 3, partial: 2, full: 0 }));
  for (const s of slots) expect(cache.dealloc(s), "Failed to deallocate a slot");
  expect(cache.dealloc(next), "Failed to deallocate a slot");
  assert_eq(JSON.stringify(cache.sizes()), JSON.stringify({ empty: 5, partial: 0, full: 0 }));
  cache.drop();
  assert_eq(load_total_slab_size(), before);
  assert_eq(page_state(first).state, "free");
});

ktest("slab_cache_releases_empty_slabs", () => {
  init();
  const cache = new SlabCache(2048);
  const slots: HeapSlot[] = [];
  for (let i = 0; i < 2 * 20; i++) slots.push(expect(cache.alloc(), "Failed to allocate a slot"));
  const pages = [...new Set(slots.map(page_of))];
  assert_eq(pages.length, 20);
  for (const s of slots) expect(cache.dealloc(s), "Failed to deallocate a slot");
  // Past 16 empty slabs the cache trims down to 4: the others went back to the frame allocator.
  const { empty, partial, full } = cache.sizes();
  assert(empty <= 16 && partial === 0 && full === 0, `empty ${empty}, partial ${partial}, full ${full}`);
  const freed = pages.filter((p) => page_state(p).state === "free").length;
  assert(freed >= 20 - empty, `${freed} of 20 slabs released`);
  cache.drop();
  assert(pages.every((p) => page_state(p).state === "free"));
});

ktest("slab_cache_rejects_foreign_slots", () => {
  init();
  const a = new SlabCache(64);
  const b = new SlabCache(64);
  const slot = expect(a.alloc(), "Failed to allocate a slot");
  // Not from `b`: refused.
  const r = b.dealloc(slot);
  assert(!r.ok && r.error === "AllocError");
  // A large slot is from no slab.
  const large = expect(HeapSlot.alloc_large(2 * PAGE_SIZE), "Failed to allocate a large slot");
  const r2 = a.dealloc(large);
  assert(!r2.ok && r2.error === "AllocError");
  large.dealloc_large();
  expect(a.dealloc(slot), "Failed to deallocate a slot");
  a.drop();
  b.drop();
});

ktest("slab_cache_page_sized_slots", () => {
  init();
  // A slot as large as the slab: every slab is full with one allocation.
  const cache = new SlabCache(PAGE_SIZE);
  const a = expect(cache.alloc(), "Failed to allocate a slot");
  const b = expect(cache.alloc(), "Failed to allocate a slot");
  assert_eq(JSON.stringify(cache.sizes()), JSON.stringify({ empty: 3, partial: 0, full: 2 }));
  assert_eq(a.paddr() % PAGE_SIZE, 0);
  assert_ne(a.paddr(), b.paddr());
  expect(cache.dealloc(a), "Failed to deallocate a slot");
  expect(cache.dealloc(b), "Failed to deallocate a slot");
  assert_eq(JSON.stringify(cache.sizes()), JSON.stringify({ empty: 5, partial: 0, full: 0 }));
  cache.drop();
});

ktest("heap_alloc_out_of_memory", () => {
  // A small machine (4 MiB: the RAM past the kernel image is 1 MiB), whose free frames we take
  // all but one of.
  set_mem_limit(4 * 1024 * 1024);
  init();
  const held: Segment<undefined>[] = [];
  for (let n = 256; n >= 1; ) {
    const r = FrameAllocOptions.new().zeroed(false).alloc_segment(n);
    if (r.ok) held.push(r.value);
    else n = Math.floor(n / 2);
  }
  // Give one frame back (it goes to this CPU's cache of free frames).
  const last = held.pop()!;
  if (last.size() > PAGE_SIZE) {
    const [one, rest] = last.split(PAGE_SIZE);
    held.push(rest);
    one.drop();
  } else {
    last.drop();
  }
  // The one frame becomes a slab of two 2048-byte slots (no empty slabs ahead): the CPU's cache
  // gets one of them, the allocation the other; the cache serves the next one, then nothing is left.
  const layout = { size: 2048, align: 8 };
  const p1 = heap_alloc(layout);
  const p2 = heap_alloc(layout);
  assert(!p1.is_null() && !p2.is_null());
  assert_eq(Math.abs(p1.addr() - p2.addr()), 2048);
  assert(heap_alloc(layout).is_null(), "no memory for a third slot");
  // No frames for a large slot either.
  assert(heap_alloc({ size: 2 * PAGE_SIZE, align: 8 }).is_null(), "no memory for a large slot");
  heap_dealloc(p1, layout);
  heap_dealloc(p2, layout);
  for (const seg of held) seg.drop();
});

ktest("object_cache_spills_to_global_pool", () => {
  init();
  // 2048-byte objects: a CPU's cache holds at most OBJ_CACHE_MAX_SIZE bytes of them; freeing past
  // that gives the slot and the excess back to the global pool, down to OBJ_CACHE_EXPECTED_SIZE.
  const layout = { size: 2048, align: 8 };
  const n = OBJ_CACHE_MAX_SIZE / 2048 + 4;
  const ps: Ptr<number>[] = [];
  for (let i = 0; i < n; i++) ps.push(heap_alloc(layout));
  let peak = 0;
  let spilled = false;
  for (const p of ps) {
    const was = local_cache_bytes(2048);
    heap_dealloc(p, layout);
    const now = local_cache_bytes(2048);
    peak = Math.max(peak, now);
    if (now < was) {
      assert_eq(now, OBJ_CACHE_EXPECTED_SIZE);
      spilled = true;
    }
  }
  assert(spilled, "the cache spilled to the global pool");
  assert(peak < OBJ_CACHE_MAX_SIZE, `the cache stayed under its maximum (${peak})`);
});

// ───────────────────────────── OSDK's ktests ─────────────────────────────

ktest("slab_counter_tracks_slab_pages", () => {
  init();
  // kmiri: 2048-byte slots rather than 8-byte ones, so that 20 slabs take 40 allocations, not 10,240
  // (the slab accounting does not depend on the slot size).
  const SLOT_SIZE = 2048;
  const NR_SLABS = 20;
  const before = load_total_slab_size();

  const cache = new SlabCache(SLOT_SIZE);
  const slots: HeapSlot[] = [];
  for (let i = 0; i < NR_SLABS * (PAGE_SIZE / SLOT_SIZE); i++) slots.push(unwrap(cache.alloc()));

  const after_alloc = load_total_slab_size();
  assert(
    after_alloc >= before + NR_SLABS * PAGE_SIZE,
    `allocating slots should create at least ${NR_SLABS} slabs, before=${before}, after=${after_alloc}`,
  );

  for (const slot of slots) unwrap(cache.dealloc(slot));

  const after_free = load_total_slab_size();
  assert(
    after_free < after_alloc,
    `freeing all slots should release some slabs, before_free=${after_alloc}, after_free=${after_free}`,
  );

  // Dropping the cache gives the remaining slabs back: the counter is where it started.
  cache.drop();
  const after_drop = load_total_slab_size();
  assert_eq(
    after_drop,
    before,
    `dropping the cache should return the counter to its original value, expected=${before}, actual=${after_drop}`,
  );
});

/** `#[repr(align(N))] struct AlignedN(u8)`: kmiri layouts align to their fields, so the alignment is given too. */
function aligned(n: number): { layout: Layout<{ v: number; pad: number[] }>; align: number } {
  return { layout: struct(`Aligned${n}`, { v: u8, pad: array(u8, n - 1) }), align: n };
}

/** `alloc_dealloc_cpu_local`: every CPU's copy is what `init_values` gave it. */
function alloc_dealloc_cpu_local<T>(layout: Layout<T>, init_values: (cpu: number) => T, align?: number): void {
  const values = Array.from({ length: num_cpus() }, (_, cpu) => init_values(cpu));
  const cpu_local = expect(alloc_cpu_local(layout, init_values, align), "Failed to allocate CPU-local object");
  for (let cpu = 0; cpu < num_cpus(); cpu++) {
    assert_eq(JSON.stringify(cpu_local.get_on_cpu(cpu).read(), (_, v) => (typeof v === "bigint" ? `${v}n` : v)),
      JSON.stringify(values[cpu], (_, v) => (typeof v === "bigint" ? `${v}n` : v)));
  }
  // Dropping it frees it.
  cpu_local.drop();
}

ktest("alloc_dealloc_cpu_local_various_types", () => {
  init();
  alloc_dealloc_cpu_local(u8, (cpu) => cpu);
  alloc_dealloc_cpu_local(u16, (cpu) => cpu);
  alloc_dealloc_cpu_local(u32, (cpu) => cpu);
  alloc_dealloc_cpu_local(u64, (cpu) => BigInt(cpu));
  alloc_dealloc_cpu_local(usize, (cpu) => cpu);
  for (const n of [2, 4, 8, 16, 32]) {
    const { layout, align } = aligned(n);
    alloc_dealloc_cpu_local(layout, (cpu) => ({ v: cpu, pad: new Array<number>(n - 1).fill(0) }), align);
  }
});

ktest("alloc_cpu_local_chunks", () => {
  init();
  // 32-byte objects: 128 fit a chunk; the 129th opens a second chunk. Freeing every object leaves
  // one empty chunk (the second empty one is dropped).
  const boxes = [];
  for (let i = 0; i < PAGE_SIZE / 32 + 1; i++) {
    boxes.push(expect(alloc_cpu_local(array(u32, 8), (cpu) => new Array<number>(8).fill(cpu * 1000 + i)), "Failed to allocate CPU-local object"));
  }
  assert_eq(boxes[PAGE_SIZE / 32]!.get_on_cpu(1).index(7).read(), 1000 + PAGE_SIZE / 32);
  for (const b of boxes) b.drop();
  // Too large for a CPU-local object.
  const big = alloc_cpu_local(array(u64, 8), () => new Array<bigint>(8).fill(0n));
  assert(!big.ok && big.error === "InvalidArgs");
});

// ───────────────────────────── multi-CPU ─────────────────────────────

const Obj = struct("Obj", { id: u64, cpu: u32, check: u32 });

function make_obj(layout: AllocLayout, id: number, cpu: number): Ptr<number> {
  const p = heap_alloc(layout);
  assert(!p.is_null());
  unsafe: {
    // SAFETY: a fresh allocation of at least `size_of(Obj)` bytes, aligned to 8.
    p.cast(Obj).write({ id: BigInt(id), cpu, check: id ^ 0x5a5a });
  }
  return p;
}

function check_obj(p: Ptr<number>, id: number, cpu: number): void {
  unsafe: {
    // SAFETY: a live allocation holding an `Obj`.
    const o = p.cast(Obj).read();
    assert(o.id === BigInt(id) && o.cpu === cpu && o.check === (id ^ 0x5a5a), `object ${id} of CPU ${cpu}`);
  }
}

ktest("heap_alloc_dealloc_on_2_cpus", () => {
  init();
  // 1000-byte objects (the 1024 class: 4 per slab, refills of 8). CPU 0 allocates some and hands
  // half to CPU 1, which frees them (into its own cache) while both CPUs allocate and free their
  // own, through their caches and the shared pool (and the frame allocator, for a large object).
  const layout = { size: 1000, align: 8 };
  const large = { size: 2 * PAGE_SIZE, align: 8 };
  const given = [0, 1, 2, 3].map((i) => make_obj(layout, i, 0));
  const kept = [4, 5, 6, 7].map((i) => make_obj(layout, i, 0));
  const t = spawn(() => {
    const own = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21].map((i) => make_obj(layout, i, 1));
    const big = make_obj(large, 99, 1);
    given.forEach((p, i) => {
      check_obj(p, i, 0);
      heap_dealloc(p, layout);
    });
    own.forEach((p, i) => check_obj(p, 10 + i, 1));
    check_obj(big, 99, 1);
    for (const p of own) heap_dealloc(p, layout);
    heap_dealloc(big, large);
  });
  const mine = [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41].map((i) => make_obj(layout, i, 0));
  const big = make_obj(large, 98, 0);
  mine.forEach((p, i) => check_obj(p, 30 + i, 0));
  for (const p of mine.splice(0, 6)) heap_dealloc(p, layout);
  heap_dealloc(big, large);
  t.join();
  kept.forEach((p, i) => check_obj(p, 4 + i, 0));
  mine.forEach((p, i) => check_obj(p, 36 + i, 0));
  for (const p of [...kept, ...mine]) heap_dealloc(p, layout);
});

ktest("heap_spill_and_refill_on_2_cpus", () => {
  init();
  // 2048-byte objects (2 per slab). CPU 1 frees 20 of CPU 0's, past its cache's maximum, so its
  // cache spills slots back into the global pool's slabs, while CPU 0 refills its own cache from
  // that pool: both CPUs work on the pool's slab lists (under its lock) at once.
  const layout = { size: 2048, align: 8 };
  const n = OBJ_CACHE_MAX_SIZE / 2048 + 4;
  const given: Ptr<number>[] = [];
  for (let i = 0; i < n; i++) given.push(make_obj(layout, i, 0));
  const t = spawn(() => {
    given.forEach((p, i) => {
      check_obj(p, i, 0);
      heap_dealloc(p, layout);
    });
    return local_cache_bytes(2048);
  });
  // (A loop, not `Array.from(.., f)`: kmiri cannot suspend a thread inside a built-in's callback, so
  // a spin there never lets the lock holder run: kmiri reports such a spin as unsupported.)
  const mine: Ptr<number>[] = [];
  for (let i = 0; i < 12; i++) mine.push(make_obj(layout, 100 + i, 0));
  mine.forEach((p, i) => check_obj(p, 100 + i, 0));
  const their_cache = t.join();
  assert(their_cache < OBJ_CACHE_MAX_SIZE, `CPU 1's cache spilled (${their_cache} bytes left)`);
  for (const p of mine) heap_dealloc(p, layout);
});
