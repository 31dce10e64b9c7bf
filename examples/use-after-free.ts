// A use after free: kmiri reports where the memory was allocated, freed, and used.
import { alloc, dealloc, u32 } from "kmiri/rt";

function make_counter(): ReturnType<typeof alloc<number>> {
  "unsafe";
  const p = alloc(u32);
  p.write(1);
  return p;
}

export function main(): void {
  unsafe: {
    const p = make_counter();
    dealloc(p, u32);
    const v = p.read();
    console.log("the counter was", v);
  }
}
