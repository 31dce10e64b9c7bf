// OSTD's `mm/page_table/test.rs` (asterinas/asterinas, ostd/src/mm/page_table/test.rs) as ktests,
// with OSTD's test names, plus multi-CPU tests of the cursor lock protocol.
//
// Differences that Mirch imposes: addresses are 48-bit and not sign-extended, so the kernel half
// is [2^47, 2^48) and "the end of the address space" is 2^48 (OSTD: 2^64); Rust's drops are
// explicit `drop()`/`release()` calls, and frames allocated by a test are freed by it (kmiri
// checks leaks), including the boot-table tests' tables, which OSTD's tests leak.
import { assert, assert_eq, ktest, panic, spawn } from "kmiri/rt";
import {
  FRAME_METADATA_BASE_VADDR, LINEAR_MAPPING_BASE_VADDR, MAX_USERSPACE_VADDR, PAGE_SIZE, activate_page_table,
  boot_page_table_paddr, current_page_table_paddr, page_walk as arch_page_walk, tlb_flush_all_including_global,
  type Paddr, type Vaddr,
} from "../../arch/mm.js";
import { PageTableEntry, PagingConsts, type PagingLevel } from "../../arch/page_table.js";
import { init } from "../../boot.js";
import { disable_preempt } from "../../sync/preempt.js";
import { Frame, FrameAllocOptions, max_paddr } from "../frame/index.js";
import { BootPageTable } from "./boot_pt.js";
import { KernelPtConfig, MappedItem, UserPtConfig, VmItem, create_user_page_table, new_kernel_page_table, type VmItem as VmItemT } from "./configs.js";
import { CursorMut, PageTableFrag } from "./cursor/index.js";
import { PageTableNode } from "./node/index.js";
import {
  PageTable, expect, largest_pages, nr_subpage_per_huge, page_walk, pte_scalar_eq, range, range_len, unwrap,
  type PageTableConfig, type PagingConstsTrait, type PteScalar, type Range,
} from "./index.js";
import { CachePolicy, PageFlags, PageProperty, PageTableFlags, PrivilegedPageFlags } from "./page_prop.js";
import { rcu_barrier } from "./rcu_drop.js";

// ───────────────────────────── test_utils ─────────────────────────────

/** A user page table with `virt_range` mapped to a (tracked) frame. */
function create_user_pt_mapped_at(virt_range: Range): PageTable<typeof UserPtConfig> {
  const page_table = PageTable.empty(UserPtConfig);
  const frame = unwrap_alloc(FrameAllocOptions.new().alloc_frame());
  const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  const preempt_guard = disable_preempt();
  const r = page_table.cursor_mut(preempt_guard, virt_range);
  if (!r.ok) {
    // Rust unwinds here: the frame and the table are dropped.
    frame.drop();
    page_table.drop();
    preempt_guard.release();
  }
  const cursor = expect(r, "failed to create the cursor");
  unsafe: {
    cursor.map(VmItem.new_tracked(frame.into_uframe(), page_property));
  }
  cursor.drop();
  preempt_guard.release();
  return page_table;
}

function unwrap_alloc<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) return panic(`called \`Result::unwrap()\` on an \`Err\` value: ${String(r.error)}`);
  return r.value;
}

/** Maps `va` to physical addresses from `pa` with `prop`, in the largest pages. */
function map_untracked(pt: PageTable<typeof TestPtConfig>, va: Range, pa: Paddr, prop: PageProperty): void {
  const preempt_guard = disable_preempt();
  const cursor = unwrap(pt.cursor_mut(preempt_guard, va));
  for (const [paddr, level] of largest_pages(TestPtConfig, va.start, pa, range_len(va))) {
    unsafe: {
      cursor.map([paddr, level, prop]);
    }
  }
  cursor.drop();
  preempt_guard.release();
}

/** Applies `protect_op` to the mappings of `r`. */
function protect_range<C extends PageTableConfig>(page_table: PageTable<C>, r: Range, protect_op: (p: PageProperty) => void): void {
  const preempt_guard = disable_preempt();
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, r));
  for (;;) {
    let va_range: Range | null;
    unsafe: {
      va_range = cursor.protect_next(r.end - cursor.virt_addr(), protect_op);
    }
    if (va_range === null) break;
    assert(va_range.start >= r.start);
    assert(va_range.end <= r.end);
  }
  cursor.drop();
  preempt_guard.release();
}

/** Paging constants with 1 GiB pages (`VeryHugePagingConsts`). */
const VeryHugePagingConsts: PagingConstsTrait = Object.freeze({
  NR_LEVELS: 4,
  BASE_PAGE_SIZE: PAGE_SIZE,
  ADDRESS_WIDTH: 48,
  VA_SIGN_EXT: true,
  HIGHEST_TRANSLATION_LEVEL: 3,
  PTE_SIZE: 8,
});

/** `TestPtItem`: all mappings untracked. */
type TestPtItem = [Paddr, PagingLevel, PageProperty];

// SAFETY: the item is its raw form.
const TestPtConfig: PageTableConfig<TestPtItem, TestPtItem> = Object.freeze({
  name: "TestPtConfig",
  TOP_LEVEL_INDEX_RANGE: Object.freeze(range(0, 256)),
  TOP_LEVEL_CAN_UNMAP: true,
  E: PageTableEntry,
  C: VeryHugePagingConsts,
  item_raw_info: (item: TestPtItem): TestPtItem => [item[0], item[1], item[2]],
  item_into_raw: (item: TestPtItem): TestPtItem => [item[0], item[1], item[2]],
  item_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): TestPtItem {
    "unsafe";
    return [paddr, level, prop];
  },
  item_ref_from_raw(paddr: Paddr, level: PagingLevel, prop: PageProperty): TestPtItem {
    "unsafe";
    return [paddr, level, prop];
  },
  drop_item(_item: TestPtItem): void {},
});

/** The subsets of a bit set, in descending order (`SubsetIter`). */
class SubsetIter {
  private cur: number;
  private finished = false;
  constructor(private readonly full: number) {
    this.cur = full;
  }
  next(): number | null {
    if (this.finished) return null;
    const flag = this.cur;
    if (this.cur === 0) this.finished = true;
    else this.cur = (this.cur - 1) & this.full;
    return flag;
  }
  collect(): number[] {
    const out: number[] = [];
    for (let f = this.next(); f !== null; f = this.next()) out.push(f);
    return out;
  }
}

ktest("test_subset_iter", () => {
  init();
  assert_eq(JSON.stringify(new SubsetIter(0b1011).collect()), JSON.stringify([0b1011, 0b1010, 0b1001, 0b1000, 0b0011, 0b0010, 0b0001, 0b0000]));
});

/** Every page property (the cache policies supported so far: write-back, uncacheable). */
function all_page_properties(): PageProperty[] {
  const out: PageProperty[] = [];
  for (const flags of new SubsetIter(PageFlags.all()).collect()) {
    for (const priv_flags of new SubsetIter(PrivilegedPageFlags.all()).collect()) {
      for (const cache of [CachePolicy.Writeback, CachePolicy.Uncacheable]) out.push({ flags, cache, priv_flags });
    }
  }
  return out;
}

function assert_prop_eq(a: PageProperty, b: PageProperty): void {
  assert(PageProperty.eq(a, b), `assertion \`left == right\` failed: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

function assert_range_eq(a: Range, b: Range): void {
  assert(a.start === b.start && a.end === b.end, `assertion \`left == right\` failed: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

// ───────────────────────────── create_page_table ─────────────────────────────

ktest("create_user_page_table", () => {
  init();
  // OSTD keeps the kernel table in a static (`'static`, as `create_user_page_table` needs); here it
  // is dropped after the user table.
  const kernel_pt = new_kernel_page_table();
  const user_pt = create_user_page_table(kernel_pt);
  const guard = disable_preempt();
  const kernel_root = kernel_pt.root.borrow().lock(guard);
  const user_root = user_pt.root.borrow().lock(guard);
  const NR_PTES_PER_NODE = nr_subpage_per_huge(PagingConsts);
  for (let i = NR_PTES_PER_NODE / 2; i < NR_PTES_PER_NODE; i++) {
    const kernel_node = kernel_root.entry(i).to_ref();
    if (kernel_node.kind !== "PageTable") panic(`expected a node reference at ${i} of kernel root PT`);
    assert_eq(kernel_node.node.level(), PagingConsts.NR_LEVELS - 1);
    const user_node = user_root.entry(i).to_ref();
    if (user_node.kind !== "PageTable") panic(`expected a node reference at ${i} of user root PT`);
    assert_eq(user_node.node.level(), PagingConsts.NR_LEVELS - 1);
    assert_eq(kernel_node.node.paddr(), user_node.node.paddr());
  }
  user_root.drop();
  kernel_root.drop();
  guard.release();
  user_pt.drop();
  kernel_pt.drop();
});

ktest("new_kernel_page_table", () => {
  init();
  const kernel_pt = new_kernel_page_table();
  const preempt_guard = disable_preempt();
  const root_node = kernel_pt.root.borrow().lock(preempt_guard);
  for (let i = nr_subpage_per_huge(PagingConsts) / 2; i < nr_subpage_per_huge(PagingConsts); i++) {
    assert(root_node.entry(i).to_ref().kind === "PageTable");
  }
  root_node.drop();
  preempt_guard.release();
  kernel_pt.drop();
});

// ───────────────────────────── range_checks ─────────────────────────────

/** `assert!(pt.cursor_mut(..).is_ok())` (the cursor dropped at once). */
function cursor_ok<C extends PageTableConfig>(pt: PageTable<C>, g: ReturnType<typeof disable_preempt>, r: Range): boolean {
  const c = pt.cursor_mut(g, r);
  if (c.ok) c.value.drop();
  return c.ok;
}

ktest("range_check", () => {
  init();
  const page_table = PageTable.empty(UserPtConfig);
  const valid_va = range(0, PAGE_SIZE);
  const unalign_va = range(0, PAGE_SIZE + 1);
  const empty_va = range(0, 0);
  const overflow_va = range(PAGE_SIZE, 0);
  const kernel_va = range(LINEAR_MAPPING_BASE_VADDR, LINEAR_MAPPING_BASE_VADDR + PAGE_SIZE);
  const preempt_guard = disable_preempt();
  assert(cursor_ok(page_table, preempt_guard, valid_va));
  assert(!cursor_ok(page_table, preempt_guard, unalign_va));
  assert(!cursor_ok(page_table, preempt_guard, empty_va));
  assert(!cursor_ok(page_table, preempt_guard, overflow_va));
  assert(!cursor_ok(page_table, preempt_guard, kernel_va));
  preempt_guard.release();
  page_table.drop();
});

ktest("boundary_conditions", () => {
  init();
  const page_table = PageTable.empty(UserPtConfig);
  const preempt_guard = disable_preempt();
  assert(!cursor_ok(page_table, preempt_guard, range(0, 0)));
  // OSTD: 0xffff_8000_0000_0000..; Mirch's kernel half starts at 2^47.
  assert(!cursor_ok(page_table, preempt_guard, range(LINEAR_MAPPING_BASE_VADDR, LINEAR_MAPPING_BASE_VADDR + 0x1_0000)));
  assert(!cursor_ok(page_table, preempt_guard, range(1, PAGE_SIZE + 1)));
  preempt_guard.release();
  page_table.drop();
});

ktest("start_boundary_mapping", () => {
  init();
  const page_table = create_user_pt_mapped_at(range(0, PAGE_SIZE));
  assert(page_table.page_walk(0) !== null);
  assert(page_table.page_walk(PAGE_SIZE - 1) !== null);
  page_table.drop();
  rcu_barrier();
});

ktest("end_boundary_mapping", () => {
  init();
  const page_table = create_user_pt_mapped_at(range(MAX_USERSPACE_VADDR - PAGE_SIZE, MAX_USERSPACE_VADDR));
  assert(page_table.page_walk(MAX_USERSPACE_VADDR - PAGE_SIZE) !== null);
  assert(page_table.page_walk(MAX_USERSPACE_VADDR - 1) !== null);
  page_table.drop();
  rcu_barrier();
});

ktest.should_panic(
  "overflow_boundary_mapping",
  () => {
    init();
    const virt_range = range(MAX_USERSPACE_VADDR - PAGE_SIZE / 2, MAX_USERSPACE_VADDR + PAGE_SIZE / 2);
    create_user_pt_mapped_at(virt_range).drop();
  },
  "failed to create the cursor",
);

// ───────────────────────────── page_properties ─────────────────────────────

/**
 * Maps one page with `prop` and checks the property read back. OSTD makes a new table for each
 * property; here one table serves them all, the page unmapped after each check (1024 tables of
 * 2048 PTE allocations each exhaust kmiri's host heap: see the report).
 */
function check_map_with_property(page_table: PageTable<typeof UserPtConfig>, prop: PageProperty): void {
  const preempt_guard = disable_preempt();
  const virtual_range = range(PAGE_SIZE, PAGE_SIZE * 2);
  const frame = unwrap_alloc(FrameAllocOptions.new().alloc_frame());
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, virtual_range));
  unsafe: {
    cursor.map(VmItem.new_tracked(frame.into_uframe(), prop));
  }
  cursor.drop();
  const queried = page_table.page_walk(virtual_range.start + 100)![1];
  // A tracked frame (not I/O memory): AVAIL1 is always clear, whatever the property said.
  const expected = { ...prop, priv_flags: prop.priv_flags & ~PrivilegedPageFlags.AVAIL1 };
  assert_prop_eq(queried, expected);
  const unmapper = unwrap(page_table.cursor_mut(preempt_guard, virtual_range));
  let frag: PageTableFrag<VmItemT> | null;
  unsafe: {
    frag = unmapper.take_next(PAGE_SIZE);
  }
  assert(frag !== null && frag.kind === "Mapped");
  PageTableFrag.drop(frag!);
  unmapper.drop();
  preempt_guard.release();
}

ktest("map_preserves_page_property", () => {
  init();
  const page_table = PageTable.empty(UserPtConfig);
  for (const prop of all_page_properties()) check_map_with_property(page_table, prop);
  page_table.drop();
  rcu_barrier();
});

// ───────────────────────────── arch_pte_impls ─────────────────────────────

function assert_repr_eq(a: PteScalar, b: PteScalar): void {
  assert(pte_scalar_eq(a, b), `assertion \`left == right\` failed: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

ktest("zeroed_pte_is_absent_pte", () => {
  init();
  const pte = PageTableEntry.new_zeroed();
  for (let level = 1; level <= PagingConsts.NR_LEVELS; level++) assert_repr_eq(PageTableEntry.to_repr(pte, level), { kind: "Absent" });
});

ktest("cast_frame_pte_preserves_repr", () => {
  init();
  for (let level = 1; level <= PagingConsts.HIGHEST_TRANSLATION_LEVEL; level++) {
    for (const prop of all_page_properties()) {
      // TODO (as OSTD's): almost no architecture has non-readable pages.
      if ((prop.flags & PageFlags.R) === 0) continue;
      const repr: PteScalar = { kind: "Mapped", paddr: 0xff_c000_0000, prop };
      const pte = PageTableEntry.from_repr(repr, level);
      assert_repr_eq(repr, PageTableEntry.to_repr(pte, level));
    }
  }
});

ktest("cast_pt_pte_preserves_repr", () => {
  init();
  for (let level = 2; level <= PagingConsts.NR_LEVELS; level++) {
    for (const pt_flags of new SubsetIter(PageTableFlags.all()).collect()) {
      const repr: PteScalar = { kind: "PageTable", paddr: 0xff_c000_0000, flags: pt_flags };
      const pte = PageTableEntry.from_repr(repr, level);
      assert_repr_eq(repr, PageTableEntry.to_repr(pte, level));
    }
  }
});

ktest("cast_absent_pte_preserves_repr", () => {
  init();
  for (let level = 1; level <= PagingConsts.NR_LEVELS; level++) {
    const repr: PteScalar = { kind: "Absent" };
    assert_repr_eq(repr, PageTableEntry.to_repr(PageTableEntry.from_repr(repr, level), level));
  }
});

// ───────────────────────────── overlapping_mappings ─────────────────────────────

ktest.should_panic(
  "overlapping_mappings",
  () => {
    init();
    const page_table = PageTable.empty(TestPtConfig);
    const vrange1 = range(PAGE_SIZE, PAGE_SIZE * 2);
    const prange1 = range(PAGE_SIZE * 100, PAGE_SIZE * 101);
    const vrange2 = range(PAGE_SIZE, PAGE_SIZE * 3);
    const prange2 = range(PAGE_SIZE * 200, PAGE_SIZE * 202);
    const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
    const preempt_guard = disable_preempt();
    const c1 = unwrap(page_table.cursor_mut(preempt_guard, vrange1));
    unsafe: {
      c1.map([prange1.start, 1, page_property]);
    }
    c1.drop();
    const c2 = unwrap(page_table.cursor_mut(preempt_guard, vrange2));
    unsafe: {
      c2.map([prange2.start, 1, page_property]);
    }
  },
  "mapping over an already mapped page",
);

ktest.should_panic(
  "unaligned_map",
  () => {
    init();
    const HUGE_PAGE_SIZE = PAGE_SIZE * 512;
    const page_table = PageTable.empty(TestPtConfig);
    const virt_range = range(PAGE_SIZE, HUGE_PAGE_SIZE + PAGE_SIZE); // 4 KiB-aligned, not 2 MiB
    const phys_range = range(HUGE_PAGE_SIZE, HUGE_PAGE_SIZE * 2); // 2 MiB-aligned
    const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
    const preempt_guard = disable_preempt();
    const cursor = unwrap(page_table.cursor_mut(preempt_guard, virt_range));
    unsafe: {
      cursor.map([phys_range.start, 2, page_property]);
    }
  },
  "cursor virtual address not aligned for mapping",
);

// ───────────────────────────── navigation ─────────────────────────────

const FIRST_MAP_ADDR: Vaddr = PAGE_SIZE * 7;
const SECOND_MAP_ADDR: Vaddr = PAGE_SIZE * 512 * 512;

function setup_pt_with_two_mappings(): [PageTable<typeof TestPtConfig>, Paddr, Paddr] {
  const page_table = PageTable.empty(TestPtConfig);
  const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  const pa1 = 0x1000_0000;
  const pa2 = 0x20_0000;
  map_untracked(page_table, range(FIRST_MAP_ADDR, FIRST_MAP_ADDR + PAGE_SIZE), pa1, page_property);
  map_untracked(page_table, range(SECOND_MAP_ADDR, SECOND_MAP_ADDR + PAGE_SIZE), pa2, page_property);
  return [page_table, pa1, pa2];
}

ktest("jump", () => {
  init();
  const [page_table, first_frame] = setup_pt_with_two_mappings();
  const preempt_guard = disable_preempt();
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, range(0, SECOND_MAP_ADDR + PAGE_SIZE)));
  assert_eq(cursor.virt_addr(), 0);
  assert(unwrap(cursor.query())[1] === null);
  unwrap(cursor.jump(FIRST_MAP_ADDR));
  assert_eq(cursor.virt_addr(), FIRST_MAP_ADDR);
  const [queried_va, queried_item] = unwrap(cursor.query());
  if (queried_item === null) panic("expected a mapped item at the first address");
  assert_range_eq(queried_va, range(FIRST_MAP_ADDR, FIRST_MAP_ADDR + PAGE_SIZE));
  const [pa, , prop] = queried_item;
  assert_eq(pa, first_frame);
  assert_prop_eq(prop, PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback));
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
});

ktest("jump_from_end_and_query_huge_middle", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const HUGE_PAGE_SIZE = PAGE_SIZE * 512;
  const virt_range = range(0, HUGE_PAGE_SIZE * 2); // locks at level 2
  const map_va = virt_range.end - HUGE_PAGE_SIZE;
  const map_item: TestPtItem = [0, 2, PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback)];
  const preempt_guard = disable_preempt();
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, virt_range));
  unwrap(cursor.jump(map_va));
  unsafe: {
    cursor.map(map_item);
  }
  // The cursor is at the end of the range, at level 2.
  assert(!cursor.query().ok);
  // Jump back from the end.
  unwrap(cursor.jump(virt_range.start));
  assert(unwrap(cursor.query())[1] === null);
  // Query the middle of the huge page.
  unwrap(cursor.jump(virt_range.end - HUGE_PAGE_SIZE / 2));
  assert_range_eq(unwrap(cursor.query())[0], range(virt_range.end - HUGE_PAGE_SIZE, virt_range.end));
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
  rcu_barrier();
});

ktest("jump_from_guard_level_end", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const HUGE_PAGE_SIZE = PAGE_SIZE * 512;
  const virt_range = range(HUGE_PAGE_SIZE - PAGE_SIZE, HUGE_PAGE_SIZE);
  const preempt_guard = disable_preempt();
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, virt_range));
  unsafe: {
    cursor.map([0, 1, PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback)]);
  }
  assert_eq(cursor.virt_addr(), virt_range.end);
  unwrap(cursor.jump(virt_range.start));
  assert_eq(cursor.virt_addr(), virt_range.start);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
});

ktest("jump_near_address_space_end", () => {
  init();
  // OSTD's addresses wrap at 2^64; Mirch's address space (not sign-extended) ends at 2^48.
  const END = 2 ** 48;
  const page_table = PageTable.empty(KernelPtConfig);
  const HUGE_PAGE_SIZE = PAGE_SIZE * 512;
  const virt_range = range(END - HUGE_PAGE_SIZE, END - PAGE_SIZE);
  const preempt_guard = disable_preempt();
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, virt_range));
  // Map a page near the end of the address space.
  assert_eq(cursor.virt_addr(), END - HUGE_PAGE_SIZE);
  unsafe: {
    cursor.map(MappedItem.Untracked(0, 1, PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback)));
  }
  assert_eq(cursor.virt_addr(), END - (HUGE_PAGE_SIZE - PAGE_SIZE));
  // Jump near the end.
  unwrap(cursor.jump(END - HUGE_PAGE_SIZE / 2));
  assert_eq(cursor.virt_addr(), END - HUGE_PAGE_SIZE / 2);
  unwrap(cursor.jump(END - PAGE_SIZE * 2));
  assert_eq(cursor.virt_addr(), END - PAGE_SIZE * 2);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
});

ktest("find_next", () => {
  init();
  const [page_table] = setup_pt_with_two_mappings();
  const preempt_guard = disable_preempt();
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, range(0, SECOND_MAP_ADDR + PAGE_SIZE)));
  assert_eq(cursor.virt_addr(), 0);
  const va = cursor.find_next(FIRST_MAP_ADDR + PAGE_SIZE);
  if (va === null) panic("expected to find the next mapping");
  assert_eq(va, FIRST_MAP_ADDR);
  assert_eq(cursor.virt_addr(), FIRST_MAP_ADDR);
  unwrap(cursor.jump(FIRST_MAP_ADDR + PAGE_SIZE));
  const va2 = cursor.find_next(SECOND_MAP_ADDR - FIRST_MAP_ADDR);
  if (va2 === null) panic("expected to find the next mapping");
  assert_eq(va2, SECOND_MAP_ADDR);
  assert_eq(cursor.virt_addr(), SECOND_MAP_ADDR);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
});

ktest("find_next_keeps_va_around_barrier", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const preempt_guard = disable_preempt();
  const HUGE_PAGE_SIZE = PAGE_SIZE * 512;
  const BARRIER_START = HUGE_PAGE_SIZE - PAGE_SIZE;
  const BARRIER_END = HUGE_PAGE_SIZE + PAGE_SIZE;
  const OUTSIDE = HUGE_PAGE_SIZE * 2;
  const prop = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  map_untracked(page_table, range(OUTSIDE, OUTSIDE + PAGE_SIZE), 0, prop);
  const cursor = unwrap(page_table.cursor(preempt_guard, range(BARRIER_START, BARRIER_END)));
  // The entry spans HUGE_PAGE_SIZE..HUGE_PAGE_SIZE * 2, but `find_next` stops at BARRIER_END.
  assert(cursor.find_next(BARRIER_END - BARRIER_START) === null);
  assert_eq(cursor.virt_addr(), BARRIER_END);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
});

ktest.should_panic(
  "find_next_rejects_overflowing_len",
  () => {
    init();
    const [page_table] = setup_pt_with_two_mappings();
    const preempt_guard = disable_preempt();
    const cursor = unwrap(page_table.cursor(preempt_guard, range(0, SECOND_MAP_ADDR + PAGE_SIZE)));
    unwrap(cursor.jump(SECOND_MAP_ADDR));
    assert_eq(cursor.virt_addr(), SECOND_MAP_ADDR);
    // OSTD: `0usize.wrapping_sub(SECOND_MAP_ADDR)`; Mirch's address space ends at 2^48.
    const overflow_len = 2 ** 48 - SECOND_MAP_ADDR;
    cursor.find_next(overflow_len);
  },
  "len exceeds remaining cursor range",
);

// ───────────────────────────── unmap ─────────────────────────────

ktest("take_next_takes_something", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const preempt_guard = disable_preempt();
  const virt_range = range(PAGE_SIZE, PAGE_SIZE * 2);
  const phys_addr = PAGE_SIZE * 100;
  const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  map_untracked(page_table, virt_range, phys_addr, page_property);
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, virt_range));
  let frag: PageTableFrag<TestPtItem> | null;
  unsafe: {
    frag = cursor.take_next(range_len(virt_range));
  }
  if (frag === null || frag.kind !== "Mapped") return panic("expected to take a mapped item");
  assert_eq(frag.va, virt_range.start);
  assert_eq(frag.item.inner[0], phys_addr);
  assert_eq(frag.item.inner[1], 1);
  assert_prop_eq(frag.item.inner[2], page_property);
  PageTableFrag.drop(frag);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
  rcu_barrier();
});

ktest("take_large_takes_subtree", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const preempt_guard = disable_preempt();
  const virt_range = range(PAGE_SIZE * 513, PAGE_SIZE * 514);
  const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  map_untracked(page_table, virt_range, PAGE_SIZE, page_property);
  const large_range = range(0, PAGE_SIZE * 512 * 512);
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, large_range));
  let frag: PageTableFrag<TestPtItem> | null;
  unsafe: {
    frag = cursor.take_next(range_len(large_range));
  }
  if (frag === null || frag.kind !== "StrayPageTable") return panic("expected to take a stray page table");
  // A level-2 table of 512 entries.
  assert_eq(frag.va, PAGE_SIZE * 512);
  assert_eq(frag.len, PAGE_SIZE * 512);
  assert_eq(frag.num_frames, 1);
  PageTableFrag.drop(frag);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
  rcu_barrier();
});

// ───────────────────────────── mapping ─────────────────────────────

ktest("mixed_granularity_map_unmap", () => {
  init();
  const pt = PageTable.empty(TestPtConfig);
  const preempt_guard = disable_preempt();
  const from_ppn = range(13245, 512 * 512 + 23456);
  const to_ppn = from_ppn.start - 11010;
  const virtual_range = range(PAGE_SIZE * from_ppn.start, PAGE_SIZE * from_ppn.end);
  const physical_addr = PAGE_SIZE * to_ppn;
  const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  map_untracked(pt, virtual_range, physical_addr, page_property);
  // The mappings at various offsets, with a stride larger than a page.
  for (let i = 0; i < 100; i++) {
    const offset = i * (PAGE_SIZE + 1000);
    assert_eq(pt.page_walk(virtual_range.start + offset)![0], physical_addr + offset);
  }
  // Unmap one page.
  const unmap_va_start = PAGE_SIZE * 13456;
  const unmap_va_range = range(unmap_va_start, unmap_va_start + PAGE_SIZE);
  {
    const cursor = unwrap(pt.cursor_mut(preempt_guard, unmap_va_range));
    assert_eq(cursor.virt_addr(), unmap_va_range.start);
    let frag: PageTableFrag<TestPtItem> | null;
    unsafe: {
      frag = cursor.take_next(PAGE_SIZE);
    }
    if (frag === null || frag.kind !== "Mapped") return panic("expected to unmap a page, but got `None`");
    const expected_pa_start = physical_addr + PAGE_SIZE * (13456 - from_ppn.start);
    assert_eq(frag.va, unmap_va_range.start);
    assert_eq(frag.item.inner[0], expected_pa_start);
    assert_eq(frag.item.inner[1], 1);
    assert_prop_eq(frag.item.inner[2], page_property);
    PageTableFrag.drop(frag);
    cursor.drop();
  }
  assert(pt.page_walk(unmap_va_range.start) === null);
  assert(pt.page_walk(unmap_va_range.start + PAGE_SIZE - 1) === null);
  // The pages around it stay mapped.
  const va_low = unmap_va_range.start - PAGE_SIZE;
  assert_eq(pt.page_walk(va_low)![0], physical_addr + (va_low - virtual_range.start));
  const va_high = unmap_va_range.end;
  if (va_high < virtual_range.end) assert_eq(pt.page_walk(va_high)![0], physical_addr + (va_high - virtual_range.start));
  preempt_guard.release();
  pt.drop();
  rcu_barrier();
});

ktest("mixed_granularity_protect_query", () => {
  init();
  const pt = PageTable.empty(TestPtConfig);
  const preempt_guard = disable_preempt();
  const four_kb_ppn = 1;
  const two_mb_ppn = 512;
  const one_gb_ppn = 512 * 512;
  const from_ppn = range(one_gb_ppn - two_mb_ppn, one_gb_ppn + one_gb_ppn + two_mb_ppn + 2 * four_kb_ppn);
  const to_ppn = from_ppn.start - two_mb_ppn;
  const from = range(PAGE_SIZE * from_ppn.start, PAGE_SIZE * from_ppn.end);
  const to = PAGE_SIZE * to_ppn;
  const mapped_pa_of_va = (va: Vaddr): Paddr => va - (from.start - to);
  const prop = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  map_untracked(pt, from, to, prop);
  // 2 MiB pages (514 of them), then two 4 KiB pages.
  {
    const cursor = unwrap(pt.cursor(preempt_guard, from));
    let frame_i = 0;
    for (;;) {
      const [va, item] = unwrap(cursor.query());
      if (item === null) return panic("expected mapped untracked physical address, got `None`");
      const [pa, level, p] = item;
      assert_eq(pa, mapped_pa_of_va(va.start));
      assert_eq(level, frame_i < 514 ? 2 : 1);
      assert_eq(p.flags, PageFlags.RW);
      assert_eq(p.cache, CachePolicy.Writeback);
      if (frame_i < 514) {
        assert_eq(va.start, from.start + frame_i * PAGE_SIZE * two_mb_ppn);
        assert_eq(range_len(va), PAGE_SIZE * two_mb_ppn);
      } else {
        assert_eq(va.start, from.start + 514 * PAGE_SIZE * two_mb_ppn + (frame_i - 514) * PAGE_SIZE);
        assert_eq(range_len(va), PAGE_SIZE);
      }
      if (!cursor.jump(va.end).ok) break;
      assert(frame_i < 516);
      frame_i += 1;
    }
    cursor.drop();
  }
  const protect_ppn_range = range(from_ppn.start + 18, from_ppn.start + 20);
  const protect_va_range = range(PAGE_SIZE * protect_ppn_range.start, PAGE_SIZE * protect_ppn_range.end);
  protect_range(pt, protect_va_range, (p) => {
    p.flags &= ~PageFlags.W;
  });
  // The page below the protected range.
  {
    const va_low = protect_va_range.start - PAGE_SIZE;
    const walked = pt.page_walk(va_low);
    if (walked === null) return panic("page should be mapped before protection");
    assert_eq(walked[0], mapped_pa_of_va(va_low));
    assert_prop_eq(walked[1], PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback));
  }
  // The protected pages.
  {
    const cursor = unwrap(pt.cursor(preempt_guard, protect_va_range));
    for (;;) {
      const [va, item] = unwrap(cursor.query());
      if (item === null) return panic("expected mapped untracked physical address, got `None`");
      const [pa, level, p] = item;
      assert_eq(pa, mapped_pa_of_va(va.start));
      assert_eq(level, 1);
      assert_eq(p.flags, PageFlags.R);
      assert_eq(p.cache, CachePolicy.Writeback);
      if (!cursor.jump(va.end).ok) break;
    }
    cursor.drop();
  }
  // The page above it.
  {
    const va_high = protect_va_range.end;
    const walked = pt.page_walk(va_high);
    if (walked === null) return panic("page should be mapped after protection");
    assert_eq(walked[0], mapped_pa_of_va(va_high));
    assert_prop_eq(walked[1], PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback));
  }
  preempt_guard.release();
  pt.drop();
  rcu_barrier();
});

// ───────────────────────────── protection_and_query ─────────────────────────────

ktest("base_protect_query", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const from_ppn = range(1, 1000);
  const virtual_range = range(PAGE_SIZE * from_ppn.start, PAGE_SIZE * from_ppn.end);
  const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  map_untracked(page_table, virtual_range, 0, page_property);
  for (let i = from_ppn.start; i < from_ppn.end; i++) {
    const walked = page_table.page_walk(PAGE_SIZE * i);
    if (walked === null) panic("mapping should exist");
    assert_eq(walked[1].flags, PageFlags.RW);
    assert_eq(walked[1].cache, CachePolicy.Writeback);
  }
  const protected_range = range(PAGE_SIZE * 18, PAGE_SIZE * 20);
  protect_range(page_table, protected_range, (prop) => {
    prop.flags &= ~PageFlags.W;
  });
  for (let i = 18; i < 20; i++) {
    const walked = page_table.page_walk(PAGE_SIZE * i);
    if (walked === null) panic("mapping should exist");
    assert_eq(walked[1].flags, PageFlags.R);
    assert_eq(walked[1].cache, CachePolicy.Writeback);
  }
  assert_eq(page_table.page_walk(PAGE_SIZE * 17)![1].flags, PageFlags.RW);
  assert_eq(page_table.page_walk(PAGE_SIZE * 20)![1].flags, PageFlags.RW);
  page_table.drop();
});

ktest("protect_next_empty_entry", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const r = range(0x1000, 0x2000);
  const preempt_guard = disable_preempt();
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, r));
  let result: Range | null;
  unsafe: {
    result = cursor.protect_next(range_len(r), (prop) => {
      prop.flags = PageFlags.R;
    });
  }
  // Nothing was protected.
  assert(result === null);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
});

ktest("protect_next_touches_empty_range", () => {
  init();
  const page_table = PageTable.empty(TestPtConfig);
  const r = range(0x1000, 0x3000);
  const preempt_guard = disable_preempt();
  const sub_range = range(0x1000, 0x2000);
  const prop = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  map_untracked(page_table, sub_range, 0x2000, prop);
  const cursor = unwrap(page_table.cursor_mut(preempt_guard, r));
  let result: Range | null;
  unsafe: {
    result = cursor.protect_next(range_len(r), (p) => {
      p.flags = PageFlags.R;
    });
  }
  // The mapped page in the range was protected.
  assert(result !== null);
  assert_range_eq(result, sub_range);
  assert_eq(page_table.page_walk(0x1000)![1].flags, PageFlags.R);
  cursor.drop();
  preempt_guard.release();
  page_table.drop();
});

// ───────────────────────────── boot_pt ─────────────────────────────

/** A boot table on a fresh root frame; the test frees both with {@link free_boot_pt}. */
function new_boot_pt(): [BootPageTable, Frame<undefined>] {
  const root_frame = unwrap_alloc(FrameAllocOptions.new().alloc_frame());
  return [BootPageTable.new(root_frame.paddr()), root_frame];
}

function free_boot_pt(boot_pt: BootPageTable, root_frame: Frame<undefined>): void {
  unsafe: {
    boot_pt.free_allocated_tables();
  }
  root_frame.drop();
}

function walk_boot(root_paddr: Paddr, va: Vaddr): [Paddr, PageProperty] | null {
  unsafe: {
    return page_walk(KernelPtConfig, root_paddr, va);
  }
}

function assert_walk(got: [Paddr, PageProperty] | null, pa: Paddr, prop: PageProperty): void {
  assert(got !== null, "assertion `left == right` failed: None != Some(..)");
  assert_eq(got[0], pa);
  assert_prop_eq(got[1], prop);
}

ktest("map_base_page", () => {
  init();
  const [boot_pt, root_frame] = new_boot_pt();
  const from_virt = 0x1000;
  const to_phys = 0x2000;
  const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  unsafe: {
    boot_pt.map_base_page(from_virt, to_phys, page_property);
  }
  assert_walk(walk_boot(boot_pt.root_address(), from_virt + 1), to_phys + 1, page_property);
  free_boot_pt(boot_pt, root_frame);
});

ktest.should_panic(
  "map_base_page_already_mapped",
  () => {
    init();
    const [boot_pt] = new_boot_pt();
    const page_property = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
    unsafe: {
      boot_pt.map_base_page(0x1000, 0x2000, page_property);
      boot_pt.map_base_page(0x1000, 0x3000, page_property); // panics
    }
  },
  "mapping an already mapped page in the boot page table",
);

ktest.should_panic(
  "protect_base_page_unmapped",
  () => {
    init();
    const [boot_pt] = new_boot_pt();
    unsafe: {
      boot_pt.protect_base_page(0x2000, (prop) => {
        prop.flags = PageFlags.R;
      });
    }
  },
  "protecting an unmapped page in the boot page table",
);

ktest("map_protect", () => {
  init();
  const [boot_pt, root_frame] = new_boot_pt();
  const root_paddr = boot_pt.root_address();
  // Page 1.
  const from1 = 0x2000;
  const to_phys1 = 0x2000;
  const prop1 = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  unsafe: {
    boot_pt.map_base_page(from1, to_phys1, prop1);
  }
  assert_walk(walk_boot(root_paddr, from1 + 1), to_phys1 + 1, prop1);
  unsafe: {
    boot_pt.protect_base_page(from1, (prop) => {
      prop.flags = PageFlags.RX;
    });
  }
  assert_walk(walk_boot(root_paddr, from1 + 1), to_phys1 + 1, PageProperty.new_user(PageFlags.RX, CachePolicy.Writeback));
  // Page 2.
  const from2 = 0x3000;
  const to_phys2 = 0x3000;
  const prop2 = PageProperty.new_user(PageFlags.RX, CachePolicy.Uncacheable);
  unsafe: {
    boot_pt.map_base_page(from2, to_phys2, prop2);
  }
  assert_walk(walk_boot(root_paddr, from2 + 2), to_phys2 + 2, prop2);
  unsafe: {
    boot_pt.protect_base_page(from2, (prop) => {
      prop.flags = PageFlags.RW;
    });
  }
  assert_walk(walk_boot(root_paddr, from2 + 2), to_phys2 + 2, PageProperty.new_user(PageFlags.RW, CachePolicy.Uncacheable));
  free_boot_pt(boot_pt, root_frame);
});

// ───────────────────────────── cursor locking on several CPUs (kmiri's own) ─────────────────────────────

const RW = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);

/**
 * One CPU's work on its own range: map every page of it, check the mapping through the cursor,
 * unmap it all again, in a few rounds; each round is one cursor, so one transaction.
 */
function map_query_unmap(pt: PageTable<typeof TestPtConfig>, r: Range, pa: Paddr, rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    const guard = disable_preempt();
    const cursor = unwrap(pt.cursor_mut(guard, r));
    for (let va = r.start; va < r.end; va += PAGE_SIZE) {
      unsafe: {
        cursor.map([pa + (va - r.start), 1, RW]);
      }
    }
    unwrap(cursor.jump(r.start));
    const [slot, item] = unwrap(cursor.query());
    assert(item !== null && item[0] === pa && slot.start === r.start, "a cursor saw another cursor's change");
    let frag: PageTableFrag<TestPtItem> | null;
    let n = 0;
    for (;;) {
      unsafe: {
        frag = cursor.take_next(r.end - cursor.virt_addr());
      }
      if (frag === null) break;
      n += frag.kind === "Mapped" ? 1 : frag.num_frames;
      PageTableFrag.drop(frag);
    }
    assert_eq(n, range_len(r) / PAGE_SIZE);
    cursor.drop();
    guard.release();
  }
}

ktest("cursor_locking_disjoint_ranges", () => {
  init();
  const pt = PageTable.empty(TestPtConfig);
  // Two ranges in one level-1 table (both cursors lock that node), and one in another level-2
  // entry (the cursors share only the upper nodes, made on the way by whichever comes first).
  const HUGE = PAGE_SIZE * 512;
  const a = range(HUGE * 3 + PAGE_SIZE * 4, HUGE * 3 + PAGE_SIZE * 8);
  const b = range(HUGE * 3 + PAGE_SIZE * 16, HUGE * 3 + PAGE_SIZE * 20);
  const c = range(HUGE * 9, HUGE * 9 + PAGE_SIZE * 4);
  const t1 = spawn(() => map_query_unmap(pt, a, 0x100_0000, 3));
  const t2 = spawn(() => map_query_unmap(pt, b, 0x200_0000, 3));
  map_query_unmap(pt, c, 0x300_0000, 3);
  t1.join();
  t2.join();
  for (const r of [a, b, c]) for (let va = r.start; va < r.end; va += PAGE_SIZE) assert(pt.page_walk(va) === null);
  pt.drop();
  rcu_barrier();
});

ktest("cursor_locking_overlapping_ranges", () => {
  init();
  const pt = PageTable.empty(TestPtConfig);
  const HUGE = PAGE_SIZE * 512;
  // CPU 1 works on a few pages inside the 2 MiB region that CPU 2 unmaps as a whole: CPU 2's
  // `take_next` takes the level-1 table out (a stray sub-tree, freed after RCU) while CPU 1 may be
  // walking down to it, and must then retry from a node that is not stray.
  const small = range(HUGE * 5 + PAGE_SIZE * 100, HUGE * 5 + PAGE_SIZE * 103);
  const whole = range(HUGE * 4, HUGE * 6);
  const t1 = spawn(() => map_query_unmap(pt, small, 0x400_0000, 4));
  const t2 = spawn(() => {
    for (let round = 0; round < 4; round++) {
      const guard = disable_preempt();
      const cursor = unwrap(pt.cursor_mut(guard, whole));
      // Whatever CPU 1 left mapped is all of its range or nothing: it unmaps in the same cursor.
      const found = cursor.find_next(range_len(whole));
      assert(found === null, "a cursor saw another cursor's half-done work");
      unwrap(cursor.jump(HUGE * 5 + PAGE_SIZE * 300));
      unsafe: {
        cursor.map([0x600_0000, 1, RW]);
      }
      // Take out every level-1 table of the range (empty ones included) as stray sub-trees.
      unwrap(cursor.jump(whole.start));
      let frames = 0;
      for (;;) {
        let frag: PageTableFrag<TestPtItem> | null;
        unsafe: {
          frag = cursor.take_next(whole.end - cursor.virt_addr());
        }
        if (frag === null) break;
        assert(frag.kind === "StrayPageTable");
        frames += frag.kind === "StrayPageTable" ? frag.num_frames : 0;
        PageTableFrag.drop(frag);
      }
      assert_eq(frames, 1);
      cursor.drop();
      guard.release();
    }
  });
  // The main CPU overlaps both, read-only: every slot it sees is a whole transaction's result.
  for (let round = 0; round < 4; round++) {
    const guard = disable_preempt();
    const cursor = unwrap(pt.cursor(guard, range(HUGE * 4, HUGE * 7)));
    let n = 0;
    while (cursor.virt_addr() < HUGE * 7 && cursor.find_next(HUGE * 7 - cursor.virt_addr()) !== null) {
      n += 1;
      const [slot] = unwrap(cursor.query());
      if (slot.end >= HUGE * 7) break;
      unwrap(cursor.jump(slot.end));
    }
    assert_eq(n, 0);
    cursor.drop();
    guard.release();
  }
  t1.join();
  t2.join();
  assert(pt.page_walk(small.start) === null);
  pt.drop();
  rcu_barrier();
});

void CursorMut;
void PagingConsts;

// ───────────────────────────── activation (kmiri's own) ─────────────────────────────

ktest("activate_user_page_table", () => {
  init();
  // A kernel table whose kernel half maps the frame metadata as the boot table does (2 MiB
  // leaves, untracked), so that the metadata stays reachable while it is active.
  const kpt = new_kernel_page_table();
  const boot_root = boot_page_table_paddr();
  const HUGE = PAGE_SIZE * 512;
  const kprop: PageProperty = { flags: PageFlags.RW, cache: CachePolicy.Writeback, priv_flags: 0 };
  {
    // Copy the boot table's mappings of the metadata area, runs of contiguous pages at a time.
    const area_len = Math.ceil((max_paddr() / PAGE_SIZE) * 64 / PAGE_SIZE) * PAGE_SIZE;
    const runs: [Vaddr, Paddr, number][] = [];
    for (let off = 0; off < area_len; off += PAGE_SIZE) {
      let walked: [Paddr, PageProperty] | null;
      unsafe: {
        walked = page_walk(KernelPtConfig, boot_root, FRAME_METADATA_BASE_VADDR + off);
      }
      if (walked === null) continue;
      const last = runs[runs.length - 1];
      if (last !== undefined && last[0] + last[2] === FRAME_METADATA_BASE_VADDR + off && last[1] + last[2] === walked[0]) last[2] += PAGE_SIZE;
      else runs.push([FRAME_METADATA_BASE_VADDR + off, walked[0], PAGE_SIZE]);
    }
    assert(runs.length > 0);
    const guard = disable_preempt();
    const cursor = unwrap(kpt.cursor_mut(guard, range(FRAME_METADATA_BASE_VADDR, FRAME_METADATA_BASE_VADDR + area_len)));
    for (const [va, pa0, len] of runs) {
      unwrap(cursor.jump(va));
      for (const [pa, level] of largest_pages(KernelPtConfig, va, pa0, len)) {
        unsafe: {
          cursor.map(MappedItem.Untracked(pa, level, kprop));
        }
      }
    }
    cursor.drop();
    guard.release();
  }
  const user_pt = create_user_page_table(kpt);
  // A user page, mapped before activation.
  const frame = unwrap_alloc(FrameAllocOptions.new().alloc_frame());
  const frame_paddr = frame.paddr();
  {
    const guard = disable_preempt();
    const cursor = unwrap(user_pt.cursor_mut(guard, range(0x40_0000, 0x40_1000)));
    unsafe: {
      cursor.map(VmItem.new_tracked(frame.into_uframe(), RW));
    }
    cursor.drop();
    guard.release();
  }
  unsafe: {
    // SAFETY: the kernel table maps what the kernel reaches outside the linear map (the frame
    // metadata); it is the first of our tables on this CPU.
    kpt.first_activate_unchecked();
  }
  assert_eq(current_page_table_paddr(), kpt.root_paddr());
  // The user table shares the kernel half: activating it is safe, and drops the CPU's reference to
  // the kernel table's root.
  unsafe: {
    user_pt.activate();
  }
  assert_eq(current_page_table_paddr(), user_pt.root_paddr());
  const walked = arch_page_walk(0x40_0123);
  assert(walked !== null && walked.paddr === frame_paddr + 0x123);
  // Back to the boot table; the CPU's reference to the user root goes.
  unsafe: {
    activate_page_table(boot_root);
    tlb_flush_all_including_global();
    PageTableNode.from_raw(UserPtConfig, user_pt.root_paddr()).drop();
  }
  user_pt.drop();
  kpt.drop();
  rcu_barrier();
});

// ───────────────────────────── paths the ported tests do not take ─────────────────────────────

// A tracked frame in the kernel page table: mapped with AVAIL1 set in its PTE, queried back as a
// frame reference (`item_ref_from_raw`), taken out again (`item_from_raw`) and dropped.
ktest("kernel_pt_tracked_frame_query", () => {
  init();
  const kernel_pt = new_kernel_page_table();
  const frame = unwrap_alloc(FrameAllocOptions.new().alloc_frame());
  const paddr = frame.start_paddr();
  const va = 0x8000_0000_0000 + 0x10_0000_0000;
  const prop = PageProperty.new_user(PageFlags.RW, CachePolicy.Writeback);
  const guard = disable_preempt();
  const cursor = unwrap(kernel_pt.cursor_mut(guard, range(va, va + PAGE_SIZE)));
  unsafe: {
    cursor.map(MappedItem.Tracked(frame.into_dyn(), prop));
  }
  unwrap(cursor.jump(va));
  const [slot, item] = unwrap(cursor.query());
  assert(item !== null && item.kind === "Tracked", "a tracked frame");
  assert_eq(slot.start, va);
  if (item !== null && item.kind === "Tracked") assert_eq(item.frame.paddr(), paddr);
  let frag: PageTableFrag | null;
  unsafe: {
    frag = cursor.take_next(PAGE_SIZE);
  }
  assert(frag !== null && frag.kind === "Mapped", "the mapping came out");
  if (frag !== null) PageTableFrag.drop(frag);
  cursor.drop();
  guard.release();
  rcu_barrier();
  kernel_pt.drop();
  rcu_barrier();
});

// `shallow_copy`: a second handle to the same tree; the tree goes with the last one.
ktest("shallow_copy_shares_the_tree", () => {
  init();
  const [page_table, first_frame] = setup_pt_with_two_mappings();
  let copy: PageTable<typeof TestPtConfig>;
  unsafe: {
    copy = page_table.shallow_copy();
  }
  const guard = disable_preempt();
  const cursor = unwrap(copy.cursor(guard, range(FIRST_MAP_ADDR, FIRST_MAP_ADDR + PAGE_SIZE)));
  const [, item] = unwrap(cursor.query());
  assert(item !== null && item[0] === first_frame, "the copy sees the original's mapping");
  cursor.drop();
  guard.release();
  copy.drop();
  page_table.drop();
  rcu_barrier();
});
