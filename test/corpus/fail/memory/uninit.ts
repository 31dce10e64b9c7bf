import { alloc, dealloc, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc(u64);
    const v = p.read(); //~ ERROR: uninit
    console.log(v);
    dealloc(p, u64);
  }
}
