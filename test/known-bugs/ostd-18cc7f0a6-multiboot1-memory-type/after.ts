// Asterinas commit 18cc7f0a6 ("Fix the UB in parsing multiboot1 memory areas"): the fix of
// before.ts. A `MemoryEntry` is now only an address; its fields are read with `read_unaligned` at
// their offsets, and the type as a plain byte (the manual does not say how wide it is; a `u8`
// works), matched with every unknown value mapped to `MemoryRegionType::Reserved`.
import { array, static_, u32, u64, u8, type Ptr } from "kmiri/rt";

/** What the bootloader wrote at `memory_map_addr`: little-endian records of 4 + 20 bytes. */
function record(base: bigint, length: bigint, type: number): number[] {
  const bytes = [20, 0, 0, 0];
  for (const v of [base, length]) for (let i = 0n; i < 8n; i++) bytes.push(Number((v >> (8n * i)) & 0xffn));
  bytes.push(type, 0, 0, 0);
  return bytes;
}
const MAP_BYTES = [
  ...record(0x0n, 0x9_fc00n, 1),
  ...record(0x10_0000n, 0x7ee_0000n, 1),
  ...record(0x1_0000_0000n, 0x4000_0000n, 7), // an NVDIMM: "any other value: reserved area"
];
const MB1_MEMORY_MAP = static_(array(u8, MAP_BYTES.length), MAP_BYTES, { name: "MB1_MEMORY_MAP" });

type MemoryRegionType = "Usable" | "Reserved" | "Reclaimable" | "NonVolatileSleep" | "BadMemory";

/** `MemoryEntry { ptr: Vaddr }`: the fields at their offsets, read unaligned. */
class MemoryEntry {
  constructor(private readonly ptr: Ptr<number>) {}
  size(): number {
    unsafe: {
      return this.ptr.cast(u32).read_unaligned();
    }
  }
  base_addr(): bigint {
    unsafe: {
      return this.ptr.byte_add(4).cast(u64).read_unaligned();
    }
  }
  length(): bigint {
    unsafe: {
      return this.ptr.byte_add(12).cast(u64).read_unaligned();
    }
  }
  memory_type(): MemoryRegionType {
    let typ_val: number;
    unsafe: {
      typ_val = this.ptr.byte_add(20).read_unaligned();
    }
    return (["Usable", "Reserved", "Reclaimable", "NonVolatileSleep", "BadMemory"] as const)[typ_val - 1] ?? "Reserved";
  }
}

/** `init_memory_regions`: the regions the bootloader reported. */
function init_memory_regions(): { base: bigint; len: bigint; typ: MemoryRegionType }[] {
  const regions = [];
  const start = MB1_MEMORY_MAP.as_ptr().cast(u8); // `paddr_to_vaddr(info.memory_map_addr)`
  let current = 0;
  while (current < MAP_BYTES.length) {
    let entry: MemoryEntry;
    unsafe: {
      entry = new MemoryEntry(start.byte_add(current)); // `MemoryEntryIter::next`
    }
    regions.push({ base: entry.base_addr(), len: entry.length(), typ: entry.memory_type() });
    current += entry.size() + 4;
  }
  return regions;
}

export function main(): void {
  for (const r of init_memory_regions()) console.log(r.base.toString(16), r.len.toString(16), r.typ);
}
