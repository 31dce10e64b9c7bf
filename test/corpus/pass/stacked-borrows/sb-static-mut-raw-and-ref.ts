// A `static mut` used through `&raw mut STATIC` and through `&mut STATIC`, one after the other:
// each new `&mut` pops the raw pointers made before it, which are not used again. No UB.
import { static_, struct, u32 } from "kmiri/rt";

const Tlb = struct("Tlb", { flushes: u32, entries: u32 });
const TLB = static_(Tlb, { flushes: 0, entries: 64 }, { mut: true, name: "TLB" });

function flush_all(): void {
  "unsafe";
  const p = TLB.as_ptr();
  p.field("flushes").write(p.field("flushes").read() + 1);
}

function resize(n: number): void {
  "unsafe";
  TLB.as_mut().field_mut("entries").write(n);
}

export function main(): void {
  unsafe: {
    flush_all();
    resize(128);
    flush_all();
    const t = TLB.as_ref();
    console.log(t.field("flushes").read(), t.field("entries").read(), TLB.read().flushes);
  }
}
