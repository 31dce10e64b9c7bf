// A virtio-net driver parses the header of a received packet in place, through a reference
// (`&*hdr`) into the RX buffer. The buffer is an untyped DMA frame the device may rewrite at any
// time: making a reference to untyped memory is `page-state` (copy the header out with a volatile read).
import { struct, u16, u8 } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, memory_regions, phys_ptr } from "kmiri/mirch";

const VirtioNetHdr = struct("VirtioNetHdr", {
  flags: u8, gso_type: u8, hdr_len: u16, gso_size: u16, csum_start: u16, csum_offset: u16, num_buffers: u16,
});

function rx_buffer(): number {
  const ram = memory_regions().find((r) => r.kind === "ram")!;
  const pa = Math.ceil(ram.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(pa, 1);
    // what the device wrote (a TCP segment needing checksum completion)
    phys_ptr(pa, VirtioNetHdr).write_volatile({
      flags: 1, gso_type: 0, hdr_len: 54, gso_size: 0, csum_start: 34, csum_offset: 16, num_buffers: 1,
    });
  }
  return pa;
}

export function main(): void {
  const pa = rx_buffer();
  unsafe: {
    const hdr = phys_ptr(pa, VirtioNetHdr).as_ref(); //~ ERROR: page-state
    if (hdr.field("flags").read() & 1) console.log("csum at", hdr.field("csum_start").read() + hdr.field("csum_offset").read());
  }
}
