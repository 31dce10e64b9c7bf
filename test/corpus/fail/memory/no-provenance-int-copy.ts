// A context switch saves a task's stack pointer by copying it through a `usize` field (a typed copy
// at integer type), then reloads it as a pointer. An integer keeps the address but not the
// provenance, so the reloaded stack pointer has none and the pop through it is UB.
import { alloc, alloc_zeroed, dealloc, array, ptr, struct, u64, usize } from "kmiri/rt";

const Context = struct("Context", { sp: ptr(u64), saved_sp: usize });
const STACK = array(u64, 16);

export function main(): void {
  unsafe: {
    const stack = alloc_zeroed(STACK);
    const ctx = alloc(Context);
    ctx.field("sp").write(stack.cast(u64).add(15));
    const bits = ctx.field("sp").cast(usize).read(); // the pointer's bytes, as an integer
    ctx.field("saved_sp").write(bits);
    const sp = ctx.field("saved_sp").cast(ptr(u64)).read(); // ... and back into a pointer
    const top = sp.read(); //~ ERROR: no-provenance
    console.log(String(top));
    dealloc(ctx, Context);
    dealloc(stack, STACK);
  }
}
