// A frame allocator hands out its free list through a shared reference and then writes through
// it: Stacked Borrows says a pointer made from `&T` may only read. Try
// `npx kmiri run examples/stacked-borrows.ts`, then `--borrow-model none` to see it pass unchecked.
import { local, struct, u64, type Ref } from "kmiri/rt";

const FreeList = struct("FreeList", { head: u64, count: u64 });

function pop(list: Ref<{ head: bigint; count: bigint }>): bigint {
  const head = list.read().head;
  const count = list.field("count").as_ptr();
  unsafe: {
    count.write(count.read() - 1n); // writes through a pointer derived from `&FreeList`
  }
  return head;
}

export function main(): void {
  const list = local(FreeList, { head: 0x1000n, count: 4n });
  console.log("popped frame", pop(list.as_ref()).toString(16));
  console.log("frames left", list.read().count);
}
