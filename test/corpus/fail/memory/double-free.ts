import { alloc, dealloc, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u32);
    dealloc(p, u32);
    dealloc(p, u32); //~ ERROR: double-free
  }
}
