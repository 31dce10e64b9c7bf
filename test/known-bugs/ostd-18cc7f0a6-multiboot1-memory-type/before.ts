// Asterinas commit 18cc7f0a6 ("Fix the UB in parsing multiboot1 memory areas"), before the fix
// (framework/aster-frame/src/arch/x86/boot/multiboot/mod.rs). The multiboot (v1) memory map is a
// list of `size, base_addr, length, type` records the bootloader wrote. aster-frame read each one
// as `&*(paddr_to_vaddr(current) as *const MemoryEntry)`, a packed struct whose last field is
// `memory_type: multiboot2::MemoryAreaType`, a `#[repr(u32)]` enum of the five types 1..=5. But the
// multiboot spec allows any value there ("any other value: reserved area"): an entry of another
// type (here 7, persistent memory in e820 terms) makes `entry.memory_type` an enum value with an
// invalid discriminant, which is UB as soon as it is read.
import { array, enum_, static_, struct, u32, u64, u8 } from "kmiri/rt";

/** `multiboot2::MemoryAreaType` (0.16): `#[repr(u32)] enum { Available = 1, .., Defective = 5 }`. */
const MemoryAreaType = enum_("MemoryAreaType", u32, { Available: 1, Reserved: 2, AcpiAvailable: 3, ReservedHibernate: 4, Defective: 5 });
/** `#[repr(C, packed)] struct MemoryEntry { size: u32, base_addr: u64, length: u64, memory_type: MemoryAreaType }`. */
const MemoryEntry = struct("MemoryEntry", { size: u32, base_addr: u64, length: u64, memory_type: MemoryAreaType }, { repr: "packed" });

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
/** `impl From<MemoryAreaType> for MemoryRegionType`. */
function from_area_type(t: string): MemoryRegionType {
  return ({ Available: "Usable", Reserved: "Reserved", AcpiAvailable: "Reclaimable", ReservedHibernate: "NonVolatileSleep", Defective: "BadMemory" } as const)[t as "Available"];
}

/** `init_memory_regions`: the regions the bootloader reported. */
function init_memory_regions(): { base: bigint; len: bigint; typ: MemoryRegionType }[] {
  const regions = [];
  const start = MB1_MEMORY_MAP.as_ptr().cast(u8); // `paddr_to_vaddr(info.memory_map_addr)`
  let current = 0;
  while (current < MAP_BYTES.length) {
    unsafe: {
      const entry = start.byte_add(current).cast(MemoryEntry).as_ref();
      const e = entry.as_ptr(); // a packed struct's fields are loaded unaligned, not through `&field`
      const area_type = from_area_type(e.field("memory_type").read_unaligned()); //~ ERROR: invalid-value
      regions.push({ base: e.field("base_addr").read_unaligned(), len: e.field("length").read_unaligned(), typ: area_type });
      current += e.field("size").read_unaligned() + 4;
    }
  }
  return regions;
}

export function main(): void {
  for (const r of init_memory_regions()) console.log(r.base.toString(16), r.len.toString(16), r.typ);
}
