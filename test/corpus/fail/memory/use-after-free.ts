import { alloc, dealloc, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u64);
    p.write(1n);
    dealloc(p, u64);
    p.read(); //~ ERROR: use-after-free
  }
}
