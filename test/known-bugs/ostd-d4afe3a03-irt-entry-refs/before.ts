// Asterinas commit d4afe3a03 ("Avoid Rust references of IRT entries"), before the fix
// (ostd/src/arch/x86/iommu/interrupt_remapping). The interrupt-remapping table lives in a frame
// the IOMMU hardware reads: memory shared with a device, which OSTD treats as untyped. Yet
// `IntRemappingTable::new` made an `IrtEntryHandle` per entry holding
// `&'static mut IrtEntry` — `&mut *((table_vaddr + index * 16) as *mut IrtEntry)` — and
// `enable_default` wrote the 128-bit entry through it. A Rust reference promises that nothing
// else reads or writes the memory while it lives (and lets the compiler split, merge or reorder
// the accesses); the hardware reads the entry whenever an interrupt arrives. On Mirch a reference
// to untyped (device-shared) memory is `page-state`.
// Model: the remapping hardware is a device that reads the entry by DMA when an interrupt request
// with its index arrives (the real IOMMU reads the table by physical address; here the table page
// is mapped in the IOMMU at its own address).
import { AtomicU32, ptr_from_exposed, spin_loop, static_, struct, u64, type RefMut } from "kmiri/rt";
import {
  PAGE_SIZE, alloc_pages, attach_device, io_mem_claim, iommu, memory_regions, memset_volatile, paddr_to_vaddr,
  phys_ptr, type DeviceModel,
} from "kmiri/mirch";

/** `IrtEntry(u128)`: the low half holds P (bit 0), FPD (bit 1) and the vector (bits 16..24). */
const IrtEntry = struct("IrtEntry", { lo: u64, hi: u64 });
type IrtEntryV = { lo: bigint; hi: bigint };
const IRT_ENTRY_SIZE = 16;

/** The interrupt-remapping unit: register 0 takes the table address, register 8 an interrupt request's index. */
function remapping_unit(): DeviceModel {
  let table = 0;
  const requests: number[] = [];
  return {
    name: "ir-unit",
    mmio_write(offset, _size, value) {
      if (offset === 0) table = Number(value) - (Number(value) % PAGE_SIZE);
      else requests.push(Number(value));
    },
    run(dev) {
      for (const index of requests.splice(0)) {
        const lo = dev.dma_read_u32(table + index * IRT_ENTRY_SIZE);
        if ((lo & 1) !== 0) dev.raise_irq(); // present: deliver it (vector `(lo >> 16) & 0xff`)
      }
    },
  };
}

/** `IrtEntryHandle`: an index and a reference to the entry. */
class IrtEntryHandle {
  constructor(readonly index: number, private entry_ref: RefMut<IrtEntryV> | null) {}
  /** `IrtEntryHandle::new(table_vaddr, index)`: the address must always point to an `IrtEntry`. */
  static new(table_vaddr: number, index: number): IrtEntryHandle {
    "unsafe";
    const entry = ptr_from_exposed(table_vaddr + index * IRT_ENTRY_SIZE, IrtEntry);
    return new IrtEntryHandle(index, entry.as_mut()); //~ ERROR: page-state
  }
  irt_entry_mut(): RefMut<IrtEntryV> | null {
    return this.entry_ref;
  }
}

/** `IrtEntry::enable_default`: P = 1, FPD = 1, the vector; no validation. */
function enable_default(entry: RefMut<IrtEntryV>, vector: number): void {
  entry.write({ lo: 0b11n | (BigInt(vector) << 16n), hi: 0n });
}

class IntRemappingTable {
  private next = 0;
  private constructor(readonly paddr: number, private readonly handles: IrtEntryHandle[]) {}

  /** `IntRemappingTable::new`: one zeroed frame of entries, and a handle per entry. */
  static new(paddr: number): IntRemappingTable {
    unsafe: {
      alloc_pages(paddr, 1);
      memset_volatile(paddr_to_vaddr(paddr), 0, PAGE_SIZE);
      iommu.map(paddr, paddr); // the hardware reads it
      const handles = [];
      for (let index = 0; index < PAGE_SIZE / IRT_ENTRY_SIZE; index++) handles.push(IrtEntryHandle.new(paddr_to_vaddr(paddr), index));
      return new IntRemappingTable(paddr, handles);
    }
  }
  alloc(): IrtEntryHandle {
    return this.handles[this.next++];
  }
  /** What the IRTA register takes: the address, X2APIC mode (bit 11), size 2^(7+1) entries. */
  encode(): number {
    return this.paddr + (1 << 11) + 7;
  }
}

const DELIVERED = static_(AtomicU32, 0, { name: "DELIVERED" });

export function main(): void {
  const unit = attach_device(remapping_unit(), { mmio_len: PAGE_SIZE, irq: true });
  io_mem_claim(unit.mmio!.paddr, PAGE_SIZE);
  const regs = phys_ptr(unit.mmio!.paddr, u64);
  unit.irq!.on_active(() => void DELIVERED.as_ref().fetch_add(1, "Relaxed"));

  const table = IntRemappingTable.new(memory_regions().find((r) => r.kind === "ram")!.start);
  unsafe: {
    regs.write_volatile(BigInt(table.encode())); // IRTA
  }
  // `IrqLine::alloc`: bind an entry to the line's vector.
  const handle = table.alloc();
  enable_default(handle.irt_entry_mut()!, 0x40);
  unsafe: {
    regs.add(1).write_volatile(BigInt(handle.index)); // a device raises the remapped interrupt
  }
  while (DELIVERED.as_ref().load("Relaxed") === 0) spin_loop();
  console.log("interrupt delivered");
}
