//@ flags: --many-seeds 0..32
// The fix, 28962ec595d7 ("virtio_console: validate max_nr_ports before trying to use it", v5.16):
// `virtcons_probe` fails with -EINVAL when the device's `max_nr_ports` is 0 or above
// VIRTCONS_MAX_PORTS (0x8000), before `init_vqs` sizes anything from it.
import { alloc, array, dealloc, null_mut, ptr, size_of, struct, u32, usize, without_provenance } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr } from "kmiri/mirch";
import type { DeviceContext } from "kmiri/mirch";

const DEVICE_FEATURES = 0x010, QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, CONFIG = 0x100;
const VIRTIO_CONSOLE_F_MULTIPORT = 1 << 1;
const PORTS = 4; // what an honest device has
const ENOMEM = 12, ENOENT = 2, EINVAL = 22;
const VIRTCONS_MAX_PORTS = 0x8000;
const IN_INTR = 1, OUT_INTR = 2, CONTROL_INTR = 3; // stand-ins for the callbacks' addresses
const Virtqueue = struct("Virtqueue", { index: u32, num: u32 });
type Vq = { index: number; num: number };

/** virtio-console: MULTIPORT, `max_nr_ports` at config offset 4 (an Iago value), 2 queues per port + 2. */
function console_device() {
  let queue_sel = 0;
  return {
    name: "virtio-console",
    mmio_read(off: number, _size: number, dev: DeviceContext): number {
      if (off === DEVICE_FEATURES) return VIRTIO_CONSOLE_F_MULTIPORT;
      if (off === QUEUE_NUM_MAX) return queue_sel < 2 * (PORTS + 1) ? 64 : 0;
      if (off === CONFIG + 4) return dev.hostile ? dev.choose(PORTS, 32, [0x8000_0000]) : PORTS;
      return 0;
    },
    mmio_write(off: number, _size: number, value: number | bigint): void {
      if (off === QUEUE_SEL) queue_sel = Number(value);
    },
  };
}

const KMALLOC_MAX_SIZE = 4 << 20; // larger requests fail, as Linux's kmalloc does
const ZERO_SIZE_PTR = 16; // what kmalloc returns for 0 bytes: not NULL, not dereferenceable
function kmalloc_array<T>(n: number, elem: Layout<T>): Ptr<T> {
  "unsafe";
  const bytes = n * size_of(elem);
  if (bytes > KMALLOC_MAX_SIZE) return null_mut(elem);
  if (bytes === 0) return without_provenance(ZERO_SIZE_PTR, elem);
  return alloc(array(elem, n)).cast(elem);
}
function kfree<T>(p: Ptr<T>, n: number, elem: Layout<T>): void {
  "unsafe";
  if (p.is_null() || p.addr() === ZERO_SIZE_PTR) return;
  dealloc(p.cast(array(elem, n)), array(elem, n));
}

interface PortsDevice {
  regs: number;
  max_nr_ports: number;
  multiport: boolean;
  nr_queues: number;
  in_vqs: Ptr<Ptr<Vq>>;
  out_vqs: Ptr<Ptr<Vq>>;
  vqs: Ptr<Ptr<Vq>>; // kept until remove (Linux keeps them in vdev->vqs)
}

/** `virtio_find_vqs`: one queue per callback, or -ENOENT when the device has fewer queues. */
function virtio_find_vqs(pd: PortsDevice, nr: number, vqs: Ptr<Ptr<Vq>>): number {
  "unsafe";
  for (let q = 0; q < nr; q++) {
    phys_ptr(pd.regs + QUEUE_SEL, u32).write_volatile(q);
    const num = phys_ptr(pd.regs + QUEUE_NUM_MAX, u32).read_volatile();
    if (num === 0) {
      for (let k = 0; k < q; k++) dealloc(vqs.add(k).read(), Virtqueue);
      return -ENOENT;
    }
    const vq = alloc(Virtqueue);
    vq.write({ index: q, num });
    vqs.add(q).write(vq);
  }
  return 0;
}

function init_vqs(pd: PortsDevice): number {
  "unsafe";
  const nr_ports = pd.max_nr_ports;
  const nr_queues = pd.multiport ? ((nr_ports + 1) * 2) >>> 0 : 2;
  const vqs = kmalloc_array(nr_queues, ptr(Virtqueue));
  const io_callbacks = kmalloc_array(nr_queues, usize);
  const io_names = kmalloc_array(nr_queues, usize);
  pd.in_vqs = kmalloc_array(nr_ports, ptr(Virtqueue));
  pd.out_vqs = kmalloc_array(nr_ports, ptr(Virtqueue));
  let err = -ENOMEM;
  if (!vqs.is_null() && !io_callbacks.is_null() && !io_names.is_null() && !pd.in_vqs.is_null() && !pd.out_vqs.is_null()) {
    let j = 0;
    io_callbacks.add(j).write(IN_INTR);
    io_callbacks.add(j + 1).write(OUT_INTR);
    j += 2;
    if (pd.multiport) {
      io_callbacks.add(j).write(CONTROL_INTR);
      io_callbacks.add(j + 1).write(0);
      for (let i = 1; i < nr_ports; i++) {
        j += 2;
        io_callbacks.add(j).write(IN_INTR);
        io_callbacks.add(j + 1).write(OUT_INTR);
      }
    }
    for (let q = 0; q < nr_queues; q++) io_names.add(q).write(q % 2); // "input" / "output"
    err = virtio_find_vqs(pd, nr_queues, vqs);
    if (err === 0) {
      pd.in_vqs.add(0).write(vqs.add(0).read());
      pd.out_vqs.add(0).write(vqs.add(1).read());
      for (let i = 1, k = 4; i < nr_ports; i++, k += 2) {
        pd.in_vqs.add(i).write(vqs.add(k).read());
        pd.out_vqs.add(i).write(vqs.add(k + 1).read());
      }
      pd.vqs = vqs;
      pd.nr_queues = nr_queues;
    }
  }
  kfree(io_names, nr_queues, usize);
  kfree(io_callbacks, nr_queues, usize);
  if (err !== 0) {
    kfree(pd.out_vqs, nr_ports, ptr(Virtqueue));
    kfree(pd.in_vqs, nr_ports, ptr(Virtqueue));
    kfree(vqs, nr_queues, ptr(Virtqueue));
  }
  return err;
}

/** `virtcons_probe`, up to the queues; on success the driver is removed again (`virtcons_remove`). */
function virtcons_probe(regs: number): number {
  "unsafe";
  const pd: PortsDevice = {
    regs, max_nr_ports: 1, multiport: false, nr_queues: 0,
    in_vqs: null_mut(ptr(Virtqueue)), out_vqs: null_mut(ptr(Virtqueue)), vqs: null_mut(ptr(Virtqueue)),
  };
  if ((phys_ptr(regs + DEVICE_FEATURES, u32).read_volatile() & VIRTIO_CONSOLE_F_MULTIPORT) !== 0) {
    pd.max_nr_ports = phys_ptr(regs + CONFIG + 4, u32).read_volatile(); // virtio_cread_feature
    if (pd.max_nr_ports === 0 || pd.max_nr_ports > VIRTCONS_MAX_PORTS) {
      console.log(`virtio-console: Invalidate max_nr_ports ${pd.max_nr_ports}`);
      return -EINVAL;
    }
    pd.multiport = true;
  }
  const err = init_vqs(pd);
  if (err < 0) return err;
  console.log(`virtio-console: ${pd.max_nr_ports} ports, ${pd.nr_queues} queues`);
  for (let q = 0; q < pd.nr_queues; q++) dealloc(pd.vqs.add(q).read(), Virtqueue); // remove: del_vqs
  kfree(pd.vqs, pd.nr_queues, ptr(Virtqueue));
  kfree(pd.in_vqs, pd.max_nr_ports, ptr(Virtqueue));
  kfree(pd.out_vqs, pd.max_nr_ports, ptr(Virtqueue));
  return 0;
}

export function main(): void {
  const dev = attach_device(console_device(), { hostile: true });
  io_mem_claim(dev.mmio!.paddr, dev.mmio!.len);
  unsafe: {
    const err = virtcons_probe(dev.mmio!.paddr);
    if (err < 0) console.log(`virtio-console: probe failed: ${err}`);
  }
  io_mem_release(dev.mmio!.paddr, dev.mmio!.len);
}
