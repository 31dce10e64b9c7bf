// Asterinas PR #1998 ("Drop `ostd/src/mm/offset.rs`", commit a1f81df26), before the fix.
// `ostd::offset_of!(Container, field)` computed a field's offset by conjuring a container value
// out of nothing: `let tmp: Container = unsafe { MaybeUninit::uninit().assume_init() };`, then
// subtracting `&tmp` from `&tmp.field`. The macro's SAFETY comment said this was fine because the
// memory is never accessed; it is not: `assume_init` on uninitialised bytes is UB whether or not
// the value is used (an integer field must be initialised; the PR shows it trapping with SIGILL
// in a release build). The virtio-mmio transport used it to find its registers.
import { array, assert_eq, local, maybe_uninit, struct, u32, type Layout } from "kmiri/rt";
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

/** `ostd::offset_of!(Container, field)`. */
function ostd_offset_of<T>(layout: Layout<T>, field: keyof T & string): number {
  unsafe: {
    // let tmp: $container = unsafe { MaybeUninit::uninit().assume_init() };
    const tmp = local(layout, local(maybe_uninit(layout)).read()); //~ ERROR: uninit
    const container_addr = tmp.as_ref().as_ptr().addr();
    const field_addr = tmp.as_ref().field(field).as_ptr().addr();
    return field_addr - container_addr; // `core::mem::forget(tmp)` happens first in OSTD
  }
}

export function main(): void {
  const dev = attach_device(virtio_device(), { mmio_len: 0x1000 });
  const base = dev.mmio!.paddr;
  io_mem_claim(base, 0x1000);
  const magic_offset = ostd_offset_of(VirtioMmioLayout, "magic_value");
  const status_offset = ostd_offset_of(VirtioMmioLayout, "interrupt_status");
  const ack_offset = ostd_offset_of(VirtioMmioLayout, "interrupt_ack");
  unsafe: {
    assert_eq(phys_ptr(base + magic_offset, u32).read_volatile(), 0x7472_6976);
    const status = phys_ptr(base + status_offset, u32).read_volatile();
    phys_ptr(base + ack_offset, u32).write_volatile(status); // acknowledge what is pending
  }
  io_mem_release(base, 0x1000);
  console.log(ack_offset.toString(16));
}
