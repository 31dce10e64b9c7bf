// `write_bytes` through a raw pointer whose `&mut` parent was used since: the write is checked
// against the borrow stack like any other (`memset` through a stale pointer).
import { alloc, array, dealloc, u8, write_bytes } from "kmiri/rt";

const Page = array(u8, 64);

export function main(): void {
  unsafe: {
    const page = alloc(Page);
    const r = page.as_mut();
    const raw = r.as_mut_ptr(); // derived from `r`
    const r2 = page.as_mut(); // a new `&mut` through the allocation's pointer pops `r` and `raw`
    r2.index_mut(0).write(1);
    write_bytes(raw, 0, 1); //~ ERROR: stacked-borrows
    dealloc(page, Page);
  }
}
