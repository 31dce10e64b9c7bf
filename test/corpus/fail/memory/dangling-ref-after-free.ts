// A page descriptor is freed, then a `&PageDesc` is made from the stale pointer. A reference must
// point to live memory from the moment it exists, so making it (`&*p`) is already UB, before
// anything is read through it.
import { alloc, dealloc, struct, u32, u64 } from "kmiri/rt";

const PageDesc = struct("PageDesc", { pfn: u64, refcount: u32, flags: u32 });

export function main(): void {
  unsafe: {
    const d = alloc(PageDesc);
    d.write({ pfn: 0x42n, refcount: 1, flags: 0 });
    dealloc(d, PageDesc);
    const r = d.as_ref(); //~ ERROR: use-after-free
    console.log(r.read().refcount);
  }
}
