// The kernel page table's boot step (OSTD's `init_kernel_page_table(meta_pages)` call in
// `ostd::init`), made lazy: it records what the table is built from, and `index.ts` builds the
// table on first use. It is a module of its own so that booting — which every test does, on a
// fresh Machine — does not load the page-table modules.
import { panic } from "kmiri/rt";
import type { BootInfo } from "../../boot.js";

/** A physical range `[start, end)`. */
interface PhysRange {
  readonly start: number;
  readonly end: number;
}

/** What the kernel page table is built from (OSTD passes the metadata pages directly). */
export interface KernelPtBootInfo {
  /** The frames holding the frame metadata (forgotten `Frame<MetaPageMeta>`s since boot). */
  readonly meta_pages: PhysRange;
  /** The kernel image's physical range (the boot memory map's `Kernel` region). */
  readonly kernel_region: PhysRange;
}

let recorded: KernelPtBootInfo | null = null;

/** The boot step (`BOOT_STEPS` in `boot.ts`, after the frame allocator). */
export function kernel_page_table_boot_step(info: BootInfo): void {
  if (info.meta_pages === undefined) panic("the frame-metadata step did not run");
  const kernel = info.regions.find((r) => r.kind === "kernel");
  if (kernel === undefined) panic("no kernel region in the boot memory map");
  recorded = { meta_pages: info.meta_pages, kernel_region: { start: kernel.start, end: kernel.end } };
}

/** What the boot step recorded; `null` before boot. */
export function kernel_pt_boot_info(): KernelPtBootInfo | null {
  return recorded;
}
