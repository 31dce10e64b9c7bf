// ptr-read-write through Mirch's linear map: the same 4 million u32 reads and 4 million u32 writes
// (and in-bounds `add`s), on one 4 KiB frame of typed memory (a slab page) reached at its
// linear-map address instead of a heap block. Compare its checked time with ptr-read-write's: the
// cost of kernel memory over heap memory (target: at most 1.5x).
import { u32 } from "kmiri/rt";
import { alloc_pages, dealloc_pages, memory_regions, phys_ptr, retype_pages } from "kmiri/mirch";

const N = 1024;
const ROUNDS = 4_000_000;

export function main(): void {
  const frame = memory_regions().find((r) => r.kind === "ram")!.start;
  unsafe: {
    alloc_pages(frame, 1);
    retype_pages(frame, 1, "slab");
    const base = phys_ptr(frame, u32);
    for (let i = 0; i < N; i++) base.add(i).write(0);
    let sum = 0;
    for (let k = 0; k < ROUNDS; k++) {
      const p = base.add(k & (N - 1));
      const v = p.read();
      p.write((v + k) >>> 0);
      sum = (sum + v) >>> 0;
    }
    console.log("checksum", sum);
    dealloc_pages(frame, 1);
  }
}
