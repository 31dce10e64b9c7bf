// A storage driver keeps the command block it hands to its controller in an untyped frame of its
// own (coherent DMA memory, written with volatile stores) and maps only that frame in the IOMMU;
// its slab-allocated device structure stays out of the device's reach. No UB.
import { struct, u32, u64 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, iommu, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, retype_pages } from "kmiri/mirch";

const SLOT = 128;
const IOVA = 0x8000_0000;
const Command = struct("Command", { opcode: u32, nsid: u32, lba: u64, blocks: u32, status: u32 });

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const slab = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  const dma = slab + PAGE_SIZE;
  unsafe: {
    alloc_pages(slab, 2);
    retype_pages(slab, 1, "slab", SLOT); // the driver's device structure lives here
    phys_ptr(slab, u64).write(BigInt(dma)); // it records where its command block is
    memset_volatile(paddr_to_vaddr(dma), 0, PAGE_SIZE);
    phys_ptr(dma, Command).write_volatile({ opcode: 0x02, nsid: 1, lba: 2048n, blocks: 8, status: 0 });
    iommu.map(IOVA, dma);
    const cmd = phys_ptr(Number(phys_ptr(slab, u64).read()), Command).read_volatile();
    console.log("command", cmd.opcode, "lba", String(cmd.lba), "at device address", IOVA.toString(16));
    iommu.unmap(IOVA);
    dealloc_pages(dma, 1);
  }
}
