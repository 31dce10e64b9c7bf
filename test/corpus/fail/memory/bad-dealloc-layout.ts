import { alloc, dealloc, u32, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u32);
    dealloc(p.cast(u64), u64); //~ ERROR: bad-dealloc
  }
}
