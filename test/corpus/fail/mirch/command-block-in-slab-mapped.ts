// A storage driver keeps the command block it hands to its controller inside its own slab-allocated
// device structure and maps that page in the IOMMU. A typed page holds kernel objects the device
// must never reach: `iommu.map` of a typed page is `dma` (DMA memory must be untyped frames).
import { struct, u32, u64 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, iommu, memory_regions, phys_ptr, retype_pages } from "kmiri/mirch";

const SLOT = 128;
const IOVA = 0x8000_0000;
const Command = struct("Command", { opcode: u32, nsid: u32, lba: u64, blocks: u32, status: u32 });

function kmalloc_page(): number {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const pa = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    retype_pages(pa, 1, "slab", SLOT);
  }
  return pa;
}

export function main(): void {
  const slab = kmalloc_page();
  const cmd_pa = slab + SLOT; // the command block, in the driver's second slab object
  unsafe: {
    phys_ptr(cmd_pa, Command).write({ opcode: 0x02, nsid: 1, lba: 2048n, blocks: 8, status: 0 });
    iommu.map(IOVA, slab); //~ ERROR: dma
  }
  console.log("command at device address", (IOVA + SLOT).toString(16));
}
