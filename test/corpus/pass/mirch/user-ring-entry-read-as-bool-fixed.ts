// A submission ring shared with user space (io_uring-like) lives in an untyped frame. The kernel
// reads each entry as plain integers (a `u8` flag, any byte valid) and decides validity itself. No UB.
import { struct, u16, u32, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

const Sqe = struct("Sqe", { opcode: u8, valid: u8, len: u16, addr: u32 });

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const ring = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(ring, 1);
    memset_volatile(paddr_to_vaddr(ring), 0, PAGE_SIZE);
    // user space submits a read of 512 bytes, then a garbage entry
    phys_ptr(ring, Sqe).write_volatile({ opcode: 2, valid: 1, len: 512, addr: 0x4000 });
    phys_ptr(ring + 8, Sqe).write_volatile({ opcode: 7, valid: 0x5c, len: 0, addr: 0 });
    let consumed = 0;
    for (let i = 0; i < 2; i++) {
      const sqe = phys_ptr(ring + 8 * i, Sqe).read_volatile();
      if (sqe.valid === 1) {
        console.log("op", sqe.opcode, "len", sqe.len);
        consumed++;
      }
    }
    console.log(consumed, "of 2 entries valid");
    dealloc_pages(ring, 1);
  }
}
