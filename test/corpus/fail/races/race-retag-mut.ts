//@ flags: --preemption-rate 0
// One CPU reads a page-table entry through a raw pointer; another takes `&mut` to it. Creating a
// unique reference is a retag, which counts as a write for the race detector (it licenses
// speculative writes), so it races with the read. Miri: `tests/fail/both_borrows/retag_data_race_write.rs`.
import { alloc_zeroed, dealloc, spawn, u64 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const pte = alloc_zeroed(u64);
    const walker = spawn(() => {
      unsafe: {
        return pte.read();
      }
    });
    const mapper = spawn(() => {
      unsafe: {
        const e = pte.as_mut(); //~ ERROR: data-race
        e.write(0x2003n);
      }
    });
    walker.join();
    mapper.join();
    dealloc(pte, u64);
  }
}
