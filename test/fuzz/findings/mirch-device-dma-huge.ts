// FIXED by commits ad34ecc and b75bc3d (kept as a regression test: fuzz.test.ts runs it and
// expects no internal error). FINDING (fuzz, Mirch family, at HEAD d8693fa): a device model's
// `dev.dma_read(0, 2 ** 40)` made kmiri allocate a 1 TiB buffer before checking the range:
// `internal error in kmiri: RangeError: Invalid typed array length` (src/interp/mirch/devices.ts,
// `context().dma_read`). Found with it: `dealloc_pages(pa, 2 ** 30)` and
// `tlb_flush_addr_range(VMALLOC_BASE, 2 ** 53)` walked every page of the range and ran into the
// time limit instead of being reported (or done) at once.
//
// Generator features: `misuse.mirch.device.dma-read-huge`,
// `misuse.mirch.arg.dealloc_pages.1.page-count`, `misuse.mirch.arg.tlb_flush_addr_range.1.2^53`.
import { ktest, u32 } from "kmiri/rt";
import {
  VMALLOC_BASE, alloc_pages, attach_device, dealloc_pages, io_mem_claim, memory_regions, phys_ptr, tlb_flush_addr_range,
} from "kmiri/mirch";

ktest("a device reads 1 TiB", () => {
  const d = attach_device({ name: "greedy", mmio_write: (_o, _s, _v, dev) => void dev.dma_read(0, 2 ** 40) });
  io_mem_claim(d.mmio!.paddr, 4);
  unsafe: {
    phys_ptr(d.mmio!.paddr, u32).write_volatile(1);
  }
});

ktest("a huge free", () => {
  const pa = memory_regions().find((r) => r.kind === "ram")!.start;
  unsafe: {
    alloc_pages(pa, 1);
    dealloc_pages(pa, 2 ** 30);
  }
});

ktest("a huge flush", () => {
  tlb_flush_addr_range(VMALLOC_BASE, 2 ** 53);
  console.log("flushed");
});
