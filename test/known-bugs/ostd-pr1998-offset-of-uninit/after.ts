// Asterinas PR #1998 ("Drop `ostd/src/mm/offset.rs`", commit a1f81df26): the fix of before.ts.
// `ostd::offset_of!` is gone; its users take `core::mem::offset_of!(Container, field)`, which the
// compiler computes from the type's layout with no value at all (kmiri's `offset_of`). OSTD kept
// the field's type for its pointer macros through a separate helper that never runs the
// expression.
import { array, assert_eq, offset_of, struct, u32 } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr, virtio_device } from "kmiri/mirch";

/** The virtio-mmio register block (virtio 1.x, version 2), up to the interrupt registers. */
const VirtioMmioLayout = struct("VirtioMmioLayout", {
  magic_value: u32, version: u32, device_id: u32, vendor_id: u32,
  device_features: u32, device_features_sel: u32, _r0: array(u32, 2),
  driver_features: u32, driver_features_sel: u32, _r1: array(u32, 2),
  queue_sel: u32, queue_num_max: u32, queue_num: u32, _r2: array(u32, 2),
  queue_ready: u32, _r3: array(u32, 2),
  queue_notify: u32, _r4: array(u32, 3),
  interrupt_status: u32, interrupt_ack: u32,
});

export function main(): void {
  const dev = attach_device(virtio_device(), { mmio_len: 0x1000 });
  const base = dev.mmio!.paddr;
  io_mem_claim(base, 0x1000);
  const magic_offset = offset_of(VirtioMmioLayout, "magic_value");
  const status_offset = offset_of(VirtioMmioLayout, "interrupt_status");
  const ack_offset = offset_of(VirtioMmioLayout, "interrupt_ack");
  unsafe: {
    assert_eq(phys_ptr(base + magic_offset, u32).read_volatile(), 0x7472_6976);
    const status = phys_ptr(base + status_offset, u32).read_volatile();
    phys_ptr(base + ack_offset, u32).write_volatile(status); // acknowledge what is pending
  }
  io_mem_release(base, 0x1000);
  console.log(ack_offset.toString(16));
}
