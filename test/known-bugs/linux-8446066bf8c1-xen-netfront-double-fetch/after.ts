//@ flags: --many-seeds 0..32
// The fix, 8446066bf8c1 ("xen/netfront: read response from backend only once", 2021):
// `xennet_get_extras` copies the slot into a local with `RING_COPY_RESPONSE` and checks and uses
// only that copy. The backend may flip the type as it likes: the driver sees one value.
import {
  PAGE_SIZE, alloc_pages, attach_device, dealloc_pages, io_mem_claim, io_mem_release, iommu, memory_regions,
  memset_volatile, paddr_to_vaddr, phys_ptr,
} from "kmiri/mirch";
import type { DeviceContext } from "kmiri/mirch";
import { array, i16, local, struct, u16, u32, u8, type Ptr } from "kmiri/rt";

const RING_DADDR = 0x4000_0000;
const REQ_PROD = 0, RSP_PROD = 8, RING = 64; // `struct xen_netif_rx_sring`: indices, then 8-byte slots
const NOTIFY = 0x000; // the event channel, as a doorbell register
const XEN_NETRXF_extra_info = 1 << 3, XEN_NETIF_EXTRA_FLAG_MORE = 1;
const XEN_NETIF_EXTRA_TYPE_GSO = 1, XEN_NETIF_EXTRA_TYPE_MAX = 6;
const EINVAL = 22, EBADR = 53;

const RxResponse = struct("XenNetifRxResponse", { id: u16, offset: u16, flags: u16, status: i16 });
const ExtraInfo = struct("XenNetifExtraInfo", { type: u8, flags: u8, gso_size: u16, gso_type: u8, pad: u8, features: u16 });
type Extra = { type: number; flags: number; gso_size: number; gso_type: number; pad: number; features: number };
// `struct netfront_rx_info`, on xennet_poll's stack.
const RxInfo = struct("NetfrontRxInfo", { rx: RxResponse, extras: array(ExtraInfo, XEN_NETIF_EXTRA_TYPE_MAX - 1) });

/** The backend: answers the two rx requests with a packet and a GSO extra-info slot. */
function netback() {
  let lie = XEN_NETIF_EXTRA_TYPE_GSO, phase = 0;
  return {
    name: "xen-netback",
    mmio_write(off: number, _size: number, _value: number | bigint, dev: DeviceContext): void {
      if (off !== NOTIFY) return;
      const slot = (i: number) => RING_DADDR + RING + 8 * i;
      dev.dma_write(slot(0), Uint8Array.of(0, 0, 0, 0, XEN_NETRXF_extra_info, 0, 60, 0)); // id 0, 60 bytes
      dev.dma_write(slot(1), Uint8Array.of(XEN_NETIF_EXTRA_TYPE_GSO, 0, 0xa8, 0x05, 1, 0, 0, 0)); // GSO, 1448
      dev.dma_write_u32(RING_DADDR + RSP_PROD, 2);
      if (dev.hostile) { // Iago: from now on, flip the extra's type between GSO and a bad type
        lie = dev.choose(XEN_NETIF_EXTRA_TYPE_GSO, 8, [XEN_NETIF_EXTRA_TYPE_MAX, XEN_NETIF_EXTRA_TYPE_MAX]); // GSO: no flipping
        phase = dev.choose(1, 8, [0]) & 1; // whether the next write is the bad type or GSO
      }
    },
    run(dev: DeviceContext): void { // a hostile device runs before each CPU access to shared memory
      if (lie === XEN_NETIF_EXTRA_TYPE_GSO) return;
      dev.dma_write(RING_DADDR + RING + 8, Uint8Array.of(phase === 1 ? lie : XEN_NETIF_EXTRA_TYPE_GSO));
      phase ^= 1;
    },
  };
}

/** `xennet_get_extras`: copies the extra-info slots after `cons` into `extras`. */
function xennet_get_extras(ring: number, extras: Ptr<Extra>, cons: number, rp: number): { err: number; cons: number } {
  "unsafe";
  let err = 0;
  let extra: Extra;
  do {
    if (cons + 1 === rp) return { err: -EBADR, cons }; // "Missing extra info"
    extra = phys_ptr(ring + RING + 8 * (++cons % 32), ExtraInfo).read_volatile(); // RING_COPY_RESPONSE
    if (extra.type === 0 || extra.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
      console.log(`xen-netfront: Invalid extra type: ${extra.type}`);
      err = -EINVAL;
    } else {
      extras.add(extra.type - 1).write(extra);
    }
  } while ((extra.flags & XEN_NETIF_EXTRA_FLAG_MORE) !== 0);
  return { err, cons };
}

/** `xennet_poll`, for one packet: its first response, then its extra info. */
function xennet_poll(ring: number): void {
  "unsafe";
  const rinfo = local(RxInfo);
  const rp = phys_ptr(ring + RSP_PROD, u32).read_volatile();
  const cons = 0; // rsp_cons
  if (cons === rp) return;
  rinfo.as_ptr().field("rx").write(phys_ptr(ring + RING, RxResponse).read_volatile()); // memcpy(rx, RING_GET_RESPONSE(..))
  const extras = rinfo.as_ptr().field("extras").cast(ExtraInfo);
  for (let k = 0; k < XEN_NETIF_EXTRA_TYPE_MAX - 1; k++) extras.add(k).write({ type: 0, flags: 0, gso_size: 0, gso_type: 0, pad: 0, features: 0 });
  let err = 0;
  if ((rinfo.as_ptr().field("rx").field("flags").read() & XEN_NETRXF_extra_info) !== 0) err = xennet_get_extras(ring, extras, cons, rp).err;
  if (err !== 0) {
    console.log(`xen-netfront: rx error ${err}`);
    return;
  }
  const gso = extras.add(XEN_NETIF_EXTRA_TYPE_GSO - 1).read();
  console.log(`xen-netfront: ${rinfo.as_ptr().field("rx").field("status").read()} bytes, gso size ${gso.type !== 0 ? gso.gso_size : "-"}`);
}

export function main(): void {
  const dev = attach_device(netback(), { hostile: true });
  const regs = dev.mmio!.paddr;
  io_mem_claim(regs, dev.mmio!.len);
  const ring = Math.ceil(memory_regions().find((r) => r.kind === "ram")!.start / PAGE_SIZE) * PAGE_SIZE;
  unsafe: {
    alloc_pages(ring, 1);
    memset_volatile(paddr_to_vaddr(ring), 0, PAGE_SIZE);
    iommu.map(RING_DADDR, ring); // the granted ring page
    phys_ptr(ring + REQ_PROD, u32).write_volatile(2); // two rx requests posted (their buffers are not modelled)
    phys_ptr(regs + NOTIFY, u32).write_volatile(1); // notify_remote_via_irq
    xennet_poll(ring);
    iommu.unmap(RING_DADDR);
    dealloc_pages(ring, 1);
  }
  io_mem_release(regs, dev.mmio!.len);
}
