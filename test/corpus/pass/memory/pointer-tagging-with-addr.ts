// Keeps a "dirty" tag in the low bit of an 8-aligned page pointer, the strict-provenance way: the
// tag is set and cleared with `with_addr`, which keeps the provenance, and the tagged pointer is
// stored in a `ptr` field and read back. It is only dereferenced untagged: no UB.
import { alloc, alloc_zeroed, dealloc, array, ptr, struct, u64 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

const PAGE = array(u64, 8);
const Slot = struct("Slot", { page: ptr(PAGE) });

function tag(p: Ptr<bigint[]>): Ptr<bigint[]> {
  return p.with_addr(p.addr() + 1);
}
function untag(p: Ptr<bigint[]>): Ptr<bigint[]> {
  return p.with_addr(p.addr() - (p.addr() % 2));
}
function is_dirty(p: Ptr<bigint[]>): boolean {
  return p.addr() % 2 === 1;
}

export function main(): void {
  unsafe: {
    const page = alloc_zeroed(PAGE);
    const slot = alloc(Slot);
    slot.field("page").write(tag(page));
    const stored = slot.field("page").read();
    const clean = untag(stored);
    clean.cast(u64).add(1).write(99n);
    console.log(is_dirty(stored), is_dirty(clean), String(page.cast(u64).add(1).read()));
    dealloc(slot, Slot);
    dealloc(clean, PAGE);
  }
}
