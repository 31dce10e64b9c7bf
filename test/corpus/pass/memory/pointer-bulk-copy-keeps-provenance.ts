// `fork` duplicates a task control block that holds a pointer to the task's kernel stack, first
// with `copy_nonoverlapping` as bytes and then with `copy` as a whole struct. Bulk copies move the
// bytes untyped and keep the stored pointer's provenance, so both copies' stack pointers can be
// used: no UB.
import { alloc, alloc_zeroed, dealloc, copy, copy_nonoverlapping, array, ptr, size_of, struct, u8, u32, u64 } from "kmiri/rt";

const STACK = array(u64, 8);
const Tcb = struct("Tcb", { stack: ptr(STACK), tid: u32 });

export function main(): void {
  unsafe: {
    const stack = alloc_zeroed(STACK);
    const parent = alloc(Tcb);
    parent.write({ stack, tid: 1 });
    const child = alloc_zeroed(Tcb);
    copy_nonoverlapping(parent.cast(u8), child.cast(u8), size_of(Tcb));
    child.field("tid").write(2);
    const grandchild = alloc(Tcb);
    copy(child, grandchild, 1);
    child.field("stack").read().cast(u64).write(11n);
    grandchild.field("stack").read().cast(u64).add(1).write(22n);
    console.log(String(stack.cast(u64).read()), String(stack.cast(u64).add(1).read()), grandchild.field("tid").read());
    dealloc(parent, Tcb);
    dealloc(child, Tcb);
    dealloc(grandchild, Tcb);
    dealloc(stack, STACK);
  }
}
