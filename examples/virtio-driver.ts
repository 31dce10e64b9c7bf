// A hardened virtio-blk driver, written as kernel code against Mirch: it finds the device, negotiates
// features, sets up one split virtqueue in a DMA page mapped through the IOMMU, reads sector 1 and
// prints its first bytes. "Hardened" as seeds/003 ("Hardening virtio") asks: nothing the device
// says is trusted. Every value read from it (QueueNumMax, capacity, used idx, used id and len) is
// read once into a local, then checked against what the driver itself knows, and a lie makes the
// driver give up cleanly instead of indexing or copying with it.
// Try `npx kmiri run examples/virtio-driver.ts` (an honest device) and `npx kmiri test
// examples/virtio-driver.ts` (its ktests: honest, and hostile); `--hostile --many-seeds 0..100` on
// `kmiri run` attacks it with a hundred different liars: a hardened driver runs clean against every lie.
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, io_mem_claim, io_mem_release, iommu, irq_disable,
  irq_restore, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr, virtio_device,
} from "kmiri/mirch";
import { AtomicBool, array, ktest, panic, static_, struct, u16, u32, u64, u8, yield_now } from "kmiri/rt";

const QUEUE_SIZE = 8; // the queue our page is laid out for
const DADDR = 0x4000_0000; // where the device sees our page (a device address, not the physical one)

// virtio-mmio registers (virtio 1.x, §4.2.2) and the bits this driver uses.
const MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, DEVICE_FEATURES = 0x010, DEVICE_FEATURES_SEL = 0x014;
const DRIVER_FEATURES = 0x020, DRIVER_FEATURES_SEL = 0x024, QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034;
const QUEUE_NUM = 0x038, QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050, INTERRUPT_STATUS = 0x060;
const INTERRUPT_ACK = 0x064, STATUS = 0x070, QUEUE_DESC = 0x080, QUEUE_DRIVER = 0x090, QUEUE_DEVICE = 0x0a0;
const CONFIG_CAPACITY = 0x100;
const ACKNOWLEDGE = 1, DRIVER = 2, DRIVER_OK = 4, FEATURES_OK = 8, FAILED = 0x80;
const DESC_NEXT = 1, DESC_WRITE = 2, AVAIL_NO_INTERRUPT = 1, BLK_T_IN = 0, BLK_S_OK = 0;

// Our DMA page: the descriptor table, the available and used rings, one request.
const DESC_OFF = 0x000, AVAIL_OFF = 0x100, USED_OFF = 0x200, HEADER_OFF = 0x300, STATUS_OFF = 0x310;
const DATA_OFF = 0x400, DATA_LEN = 512;

const VirtqDesc = struct("VirtqDesc", { addr: u64, len: u32, flags: u16, next: u16 });
const VirtqUsedElem = struct("VirtqUsedElem", { id: u32, len: u32 });
const BlkReqHeader = struct("VirtioBlkReqHeader", { type: u32, reserved: u32, sector: u64 });

/** Whether the interrupt handler may still touch the registers (there is no way to unregister it). */
const LIVE = static_(AtomicBool, false, { name: "VIRTIO_BLK_LIVE" });

// MMIO through the linear map: only volatile, naturally aligned 32-bit accesses reach the device.
// Safe wrappers, as OSTD's `IoMem` is: the window is claimed before the first call.
function rd(regs: number, off: number): number {
  unsafe: {
    return phys_ptr(regs + off, u32).read_volatile();
  }
}
function wr(regs: number, off: number, value: number): void {
  unsafe: {
    phys_ptr(regs + off, u32).write_volatile(value);
  }
}
/** A 64-bit device address as the Low/High register pair at `off`. */
function wr_addr(regs: number, off: number, daddr: number): void {
  wr(regs, off, daddr % 2 ** 32);
  wr(regs, off + 4, Math.floor(daddr / 2 ** 32));
}

/** The first page of the first RAM region: free at boot, and nothing else in this program allocates RAM. */
function free_ram_page(): number {
  for (const r of memory_regions()) {
    const start = Math.ceil(r.start / PAGE_SIZE) * PAGE_SIZE;
    if (r.kind === "ram" && start + PAGE_SIZE <= r.end) return start;
  }
  panic("no free RAM page");
}

/** Probes and negotiates (§3.1.1); returns the queue size to use, or why the device is unusable. */
function bring_up(regs: number): number | string {
  if (rd(regs, MAGIC) !== 0x7472_6976 || rd(regs, VERSION) !== 2) return "not a virtio-mmio v2 device";
  if (rd(regs, DEVICE_ID) !== 2) return "not a block device";
  wr(regs, STATUS, 0);
  wr(regs, STATUS, ACKNOWLEDGE);
  wr(regs, STATUS, ACKNOWLEDGE | DRIVER);
  wr(regs, DEVICE_FEATURES_SEL, 1);
  const offered = rd(regs, DEVICE_FEATURES);
  if ((offered & 1) === 0) return "no VIRTIO_F_VERSION_1";
  wr(regs, DRIVER_FEATURES_SEL, 0);
  wr(regs, DRIVER_FEATURES, 0);
  wr(regs, DRIVER_FEATURES_SEL, 1);
  wr(regs, DRIVER_FEATURES, offered & 0b11); // VERSION_1, and ACCESS_PLATFORM when offered
  wr(regs, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
  if ((rd(regs, STATUS) & FEATURES_OK) === 0) return "features refused";
  wr(regs, QUEUE_SEL, 0);
  if (rd(regs, QUEUE_READY) !== 0) return "queue 0 already in use";
  // Iago: the maximum is the device's word. Read it once; never size anything by it.
  const max = rd(regs, QUEUE_NUM_MAX);
  if (max === 0) return "no queue 0";
  let num = QUEUE_SIZE;
  while (num > max) num /= 2; // a split queue's size is a power of two that fits both sides
  return num;
}

/** Sets up the queue in `page` and reads sector 1 into it; returns its first bytes, or what went wrong. */
function read_sector_1(regs: number, page: number, num: number): number[] | string {
  "unsafe";
  wr(regs, QUEUE_NUM, num);
  wr_addr(regs, QUEUE_DESC, DADDR + DESC_OFF);
  wr_addr(regs, QUEUE_DRIVER, DADDR + AVAIL_OFF);
  wr_addr(regs, QUEUE_DEVICE, DADDR + USED_OFF);
  wr(regs, QUEUE_READY, 1);
  wr(regs, STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
  // Capacity is read once; a device that shrinks it under us gets no request past what it said.
  if (phys_ptr(regs + CONFIG_CAPACITY, u64).read_volatile() < 2n) return "disk too small";

  // We poll, so we ask for no used-buffer interrupts.
  phys_ptr(page + AVAIL_OFF, u16).write_volatile(AVAIL_NO_INTERRUPT);
  phys_ptr(page + HEADER_OFF, BlkReqHeader).write_volatile({ type: BLK_T_IN, reserved: 0, sector: 1n });
  phys_ptr(page + STATUS_OFF, u8).write_volatile(0xff); // a device that never writes it is caught
  const desc = (i: number, off: number, len: number, flags: number): void =>
    phys_ptr(page + DESC_OFF + 16 * i, VirtqDesc).write_volatile({ addr: BigInt(DADDR + off), len, flags, next: flags & DESC_NEXT ? i + 1 : 0 });
  desc(0, HEADER_OFF, 16, DESC_NEXT);
  desc(1, DATA_OFF, DATA_LEN, DESC_NEXT | DESC_WRITE);
  desc(2, STATUS_OFF, 1, DESC_WRITE);
  const head = 0;
  phys_ptr(page + AVAIL_OFF + 4, u16).write_volatile(head); // ring[0]
  phys_ptr(page + AVAIL_OFF + 2, u16).write_volatile(1); // idx: one request published
  wr(regs, QUEUE_NOTIFY, 0); // the doorbell orders our ring writes before the device's reads

  // Wait for the used idx to move, a bounded time: a device that never completes (or lies that
  // it has not) must not hang the kernel. One volatile read per turn, kept in a local: the device
  // may change it between two reads.
  const used_idx = phys_ptr(page + USED_OFF + 2, u16);
  let idx = used_idx.read_volatile();
  for (let tries = 0; idx === 0; tries++) {
    if (tries === 1000) return "the device did not complete the request";
    yield_now();
    idx = used_idx.read_volatile();
  }
  if (idx !== 1) return `used idx moved to ${idx} for 1 request`;
  // One read of the element, both fields at once; the checks and every later use see the same values.
  const used = phys_ptr(page + USED_OFF + 4, VirtqUsedElem).read_volatile();
  if (used.id >= num || used.id !== head) return `used id ${used.id}: not the chain in flight`;
  if (used.len > DATA_LEN + 1) return `used len ${used.len} larger than the buffers`;
  const status = phys_ptr(page + STATUS_OFF, u8).read_volatile();
  if (status !== BLK_S_OK) return `request failed with status ${status}`;
  // How much to read is our own size, never `used.len`.
  return phys_ptr(page + DATA_OFF, array(u8, 8)).read_volatile();
}

export function main(): void {
  drive(false);
}

ktest("virtio_blk_reads_sector_1", () => drive(false));
ktest("virtio_blk_survives_a_hostile_device", () => drive(true));

/** Brings the device up, reads sector 1, tears down; `hostile`: the device lies as the seed decides. */
function drive(hostile: boolean): void {
  const dev = attach_device(virtio_device({ queue_size: QUEUE_SIZE }), { irq: true, hostile });
  const mmio = dev.mmio;
  if (mmio === undefined) panic("virtio-blk attached without an MMIO window");
  const regs = mmio.paddr;
  io_mem_claim(regs, mmio.len);
  LIVE.as_ref().store(true, "Release");
  // Config-change interrupts (a device that needs a reset) still come: acknowledge them.
  dev.irq?.on_active(() => {
    if (LIVE.as_ref().load("Acquire")) wr(regs, INTERRUPT_ACK, rd(regs, INTERRUPT_STATUS));
  });

  const page = free_ram_page();
  unsafe: {
    alloc_pages(page, 1);
    memset_volatile(paddr_to_vaddr(page), 0, PAGE_SIZE); // RAM starts uninitialised; rings start zeroed
    iommu.map(DADDR, page);
  }
  const num = bring_up(regs);
  let result: number[] | string = typeof num === "string" ? num : "";
  if (typeof num === "number") {
    unsafe: {
      result = read_sector_1(regs, page, num);
    }
  }
  if (typeof result === "string") {
    wr(regs, STATUS, rd(regs, STATUS) | FAILED);
    console.log(`virtio-blk: ${result}; giving up`);
  } else {
    console.log(`virtio-blk: sector 1 starts with ${result.map((b) => b.toString(16).padStart(2, "0")).join(" ")}`);
  }

  // Teardown with interrupts off, so the handler cannot run between the steps: reset the device
  // first (it stops using the queue), then take the page back from the IOMMU, then free it.
  const was = irq_disable();
  LIVE.as_ref().store(false, "Release");
  wr(regs, STATUS, 0);
  unsafe: {
    iommu.unmap(DADDR);
    dealloc_pages(page, 1);
  }
  io_mem_release(regs, mmio.len);
  irq_restore(was);
}
