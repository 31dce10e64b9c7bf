// A submission ring shared with user space (io_uring-like) lives in an untyped frame. The kernel
// reads each entry with a layout whose `valid` field is a `bool`, but user space may store any byte
// there: a volatile access with a layout that has invalid values (`bool`) to untyped memory is `page-state`.
import { bool, struct, u16, u32, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

/** What user space writes. */
const SqeRaw = struct("SqeRaw", { opcode: u8, valid: u8, len: u16, addr: u32 });
/** The kernel's view of the same 8 bytes. */
const Sqe = struct("Sqe", { opcode: u8, valid: bool, len: u16, addr: u32 });

export function main(): void {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const ring = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(ring, 1);
    memset_volatile(paddr_to_vaddr(ring), 0, PAGE_SIZE);
    // user space submits a read of 512 bytes
    phys_ptr(ring, SqeRaw).write_volatile({ opcode: 2, valid: 1, len: 512, addr: 0x4000 });
    // the kernel consumes it
    const sqe = phys_ptr(ring, Sqe).read_volatile(); //~ ERROR: page-state
    if (sqe.valid) console.log("op", sqe.opcode, "len", sqe.len);
  }
}
