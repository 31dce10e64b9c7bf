//@ flags: --many-seeds 0..32
// Linux `drivers/net/virtio_net.c` before 411ea23a7652 (v5.10): `virtnet_validate` checks the
// device's MTU, and `virtnet_probe` reads it again. When the second read is below `min_mtu`
// ("should never trigger") the probe jumps to `free:` — `free_netdev(dev)` — and returns `err`,
// which still holds 0 from the MQ feature read (seeds/000, game 3). The driver core takes the probe
// for a success and keeps `vdev->priv` pointing into the freed net_device; `virtnet_remove` uses it.
import { alloc, dealloc, null_mut, ptr, struct, u16, u32, type Layout, type Ptr } from "kmiri/rt";
import { attach_device, io_mem_claim, io_mem_release, phys_ptr } from "kmiri/mirch";
import type { DeviceContext } from "kmiri/mirch";

const DEVICE_FEATURES = 0x010, CONFIG = 0x100;
const VIRTIO_NET_F_MTU = 1 << 3, VIRTIO_NET_F_CTRL_VQ = 1 << 17, VIRTIO_NET_F_MQ = 1 << 22;
const CFG_MAX_VIRTQUEUE_PAIRS = 8, CFG_MTU = 10; // offsets in struct virtio_net_config
const ETH_MIN_MTU = 68, ETH_DATA_LEN = 1500, ENOENT = 2;

interface NetDeviceV { mtu: number; min_mtu: number; max_mtu: number; priv: VirtnetInfoV }
interface VirtnetInfoV { dev: Ptr<NetDeviceV>; max_queue_pairs: number }
const VirtnetInfo: Layout<VirtnetInfoV> = struct("VirtnetInfo", { dev: ptr((): Layout<NetDeviceV> => NetDevice), max_queue_pairs: u16 });
// `alloc_etherdev_mq` allocates the net_device and the driver's private part together.
const NetDevice: Layout<NetDeviceV> = struct("NetDevice", { mtu: u16, min_mtu: u16, max_mtu: u16, priv: VirtnetInfo });

/** virtio-net: MTU and MQ; hostile, every read of the MTU is an Iago value. */
const net_device_model = {
  name: "virtio-net",
  mmio_read(off: number, _size: number, dev: DeviceContext): number {
    if (off === DEVICE_FEATURES) return VIRTIO_NET_F_MTU | VIRTIO_NET_F_MQ;
    if (off === CONFIG + CFG_MAX_VIRTQUEUE_PAIRS) return 1;
    if (off === CONFIG + CFG_MTU) return dev.hostile ? dev.choose(ETH_DATA_LEN, 16, [ETH_MIN_MTU - 1]) : ETH_DATA_LEN;
    return 0;
  },
};

interface VirtioDevice {
  regs: number;
  features: number; // negotiated
  priv: Ptr<VirtnetInfoV>;
}

function virtio_cread16(vdev: VirtioDevice, off: number): number {
  unsafe: {
    return phys_ptr(vdev.regs + CONFIG + off, u16).read_volatile();
  }
}

/** `virtnet_validate`: a device MTU below the minimum drops the MTU feature. */
function virtnet_validate(vdev: VirtioDevice): void {
  if ((vdev.features & VIRTIO_NET_F_MTU) !== 0 && virtio_cread16(vdev, CFG_MTU) < ETH_MIN_MTU) vdev.features &= ~VIRTIO_NET_F_MTU;
}

function virtnet_probe(vdev: VirtioDevice): number {
  "unsafe";
  let err: number;
  let max_queue_pairs = 1;
  if ((vdev.features & VIRTIO_NET_F_MQ) !== 0) { // virtio_cread_feature
    max_queue_pairs = virtio_cread16(vdev, CFG_MAX_VIRTQUEUE_PAIRS);
    err = 0;
  } else {
    err = -ENOENT;
  }
  if (err !== 0 || max_queue_pairs < 1 || max_queue_pairs > 0x8000 || (vdev.features & VIRTIO_NET_F_CTRL_VQ) === 0) max_queue_pairs = 1;
  const dev = alloc(NetDevice); // alloc_etherdev_mq
  dev.field("mtu").write(ETH_DATA_LEN);
  dev.field("min_mtu").write(ETH_MIN_MTU);
  dev.field("max_mtu").write(ETH_DATA_LEN);
  const vi = dev.field("priv"); // netdev_priv(dev)
  vi.write({ dev, max_queue_pairs });
  vdev.priv = vi;
  if ((vdev.features & VIRTIO_NET_F_MTU) !== 0) {
    const mtu = virtio_cread16(vdev, CFG_MTU);
    if (mtu < dev.field("min_mtu").read()) {
      // Should never trigger: the MTU was validated in virtnet_validate.
      console.log(`virtio-net: device MTU appears to have changed it is now ${mtu} < ${ETH_MIN_MTU}`);
      dealloc(dev, NetDevice); // free: free_netdev(dev)
      return err;
    }
    dev.field("mtu").write(mtu);
    dev.field("max_mtu").write(mtu);
  }
  console.log(`virtio-net: up, mtu ${dev.field("mtu").read()}, ${max_queue_pairs} queue pair(s)`);
  return 0;
}

/** `virtnet_remove`, called by the driver core for a device whose probe succeeded. */
function virtnet_remove(vdev: VirtioDevice): void {
  "unsafe";
  const vi = vdev.priv;
  const dev = vi.field("dev").read(); //~ ERROR: use-after-free
  vdev.priv = null_mut(VirtnetInfo);
  dealloc(dev, NetDevice); // unregister_netdev + free_netdev
}

export function main(): void {
  const model = attach_device(net_device_model, { hostile: true });
  const regs = model.mmio!.paddr;
  io_mem_claim(regs, model.mmio!.len);
  unsafe: {
    const offered = phys_ptr(regs + DEVICE_FEATURES, u32).read_volatile();
    const vdev: VirtioDevice = { regs, features: offered & (VIRTIO_NET_F_MTU | VIRTIO_NET_F_CTRL_VQ | VIRTIO_NET_F_MQ), priv: null_mut(VirtnetInfo) };
    virtnet_validate(vdev);
    const err = virtnet_probe(vdev);
    if (err === 0) virtnet_remove(vdev);
    else console.log(`virtio-net: probe failed: ${err}`);
  }
  io_mem_release(regs, model.mmio!.len);
}
