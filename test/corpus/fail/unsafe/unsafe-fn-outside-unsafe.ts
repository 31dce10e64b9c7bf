import { alloc, dealloc, u32 } from "kmiri/rt";

function make(): ReturnType<typeof alloc<number>> {
  "unsafe";
  return alloc(u32);
}

export function main(): void {
  const p = make(); //~ ERROR: unsafe-outside-unsafe
  unsafe: {
    dealloc(p, u32);
  }
}
