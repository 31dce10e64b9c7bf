// A slab-style `kfree` assumes every object has an 8-byte size header just before it and reads the
// header at `obj - 1`. This object came from a plain `alloc`, so there is no header: the read is
// before the start of the allocation. (`wrapping_sub` itself is allowed; the read is the UB.)
import { alloc, dealloc, u64 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

function object_size(obj: Ptr<bigint>): bigint {
  "unsafe";
  const header = obj.wrapping_sub(1);
  return header.read(); //~ ERROR: out-of-bounds
}

export function main(): void {
  unsafe: {
    const obj = alloc(u64);
    obj.write(7n);
    console.log(String(object_size(obj)));
    dealloc(obj, u64);
  }
}
