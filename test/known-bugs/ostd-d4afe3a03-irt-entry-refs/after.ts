// Asterinas commit d4afe3a03 ("Avoid Rust references of IRT entries"): the fix of before.ts.
// No reference to an entry exists any more: an `IrtEntryHandle` is an index and the table, and
// `IntRemappingTable::set_entry` writes the entry through the segment's `VmWriter` with
// `write_once` (volatile 64-bit stores), under a lock, in an order the hardware can never see half
// of: the low half with P clear first, then the high half, then the low half with P set.
import { AtomicU32, spin_loop, static_, u64 } from "kmiri/rt";
import {
  PAGE_SIZE, alloc_pages, attach_device, io_mem_claim, iommu, memory_regions, memset_volatile, paddr_to_vaddr,
  phys_ptr, type DeviceModel,
} from "kmiri/mirch";

/** `IrtEntry(u128)`, as two halves: the low one holds P (bit 0), FPD (bit 1) and the vector (bits 16..24). */
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

/** `IrtEntry::new_enabled`: P = 1, FPD = 1, the vector; no validation. */
function new_enabled(vector: number): IrtEntryV {
  return { lo: 0b11n | (BigInt(vector) << 16n), hi: 0n };
}

/** `IrtEntryHandle`: an index into the table, no reference. */
class IrtEntryHandle {
  constructor(readonly index: number, private readonly table: IntRemappingTable) {}
  enable(vector: number): void {
    this.table.set_entry(this.index, new_enabled(vector));
  }
}

class IntRemappingTable {
  private next = 0;
  private constructor(readonly paddr: number) {}

  /** `IntRemappingTable::new`: one zeroed frame of entries (`Segment<IntRemappingMeta>`, untyped). */
  static new(paddr: number): IntRemappingTable {
    unsafe: {
      alloc_pages(paddr, 1);
      memset_volatile(paddr_to_vaddr(paddr), 0, PAGE_SIZE);
      iommu.map(paddr, paddr); // the hardware reads it
    }
    return new IntRemappingTable(paddr);
  }
  alloc(): IrtEntryHandle {
    return new IrtEntryHandle(this.next++, this);
  }
  /** `set_entry`: three `write_once`s through `segment.writer().skip(offset)` (under `modification_lock`; one CPU here). */
  set_entry(index: number, entry: IrtEntryV): void {
    const offset = index * IRT_ENTRY_SIZE;
    unsafe: {
      const lower = phys_ptr(this.paddr + offset, u64);
      const upper = phys_ptr(this.paddr + offset + 8, u64);
      lower.write_volatile(0n); // clear the present bit first
      upper.write_volatile(entry.hi);
      lower.write_volatile(entry.lo);
    }
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
  handle.enable(0x40);
  unsafe: {
    regs.add(1).write_volatile(BigInt(handle.index)); // a device raises the remapped interrupt
  }
  while (DELIVERED.as_ref().load("Relaxed") === 0) spin_loop();
  console.log("interrupt delivered");
}
