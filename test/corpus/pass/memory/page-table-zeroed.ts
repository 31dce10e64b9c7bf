// A page-table page of 512 entries comes from `alloc_zeroed`, so every entry is initialised (not
// present). A few entries are mapped, then the whole table is scanned for present entries and the
// page is freed with the layout it was allocated with: no UB.
import { alloc_zeroed, dealloc, array, u64 } from "kmiri/rt";

const ENTRIES = 512;
const PT = array(u64, ENTRIES);
const PRESENT = 1n;
const WRITABLE = 2n;

export function main(): void {
  unsafe: {
    const pt = alloc_zeroed(PT);
    const e = pt.cast(u64);
    for (const [i, pfn] of [[0, 0x100], [1, 0x101], [511, 0x2ff]]) {
      e.add(i).write((BigInt(pfn) << 12n) | PRESENT | WRITABLE);
    }
    let present = 0;
    let last = 0n;
    for (let i = 0; i < ENTRIES; i++) {
      const pte = e.add(i).read();
      if ((pte & PRESENT) !== 0n) {
        present++;
        last = pte >> 12n;
      }
    }
    console.log(present, last.toString(16));
    dealloc(pt, PT);
  }
}
