// A driver carves per-queue scratch areas out of one block of `u32`s. A queue with no scratch gets
// an empty area, a `&mut [u32; 0]`, at the offset the carving reached: for the last queues that
// offset lies past the end of the block (computed with `wrapping_add`, never dereferenced). It
// also hands out a `&mut` to a zero-sized per-queue marker (a unit struct) at such an address.
// A zero-sized reference needs no dereferenceable byte, only a non-null, aligned address, and
// its retag touches no borrow stack (Miri: a zero-sized reborrow updates no stack), so the block's
// own pointer keeps writing and reading it afterwards: no UB.
import { alloc_zeroed, dealloc, array, struct, u32 } from "kmiri/rt";

const WORDS = 4;
const BLOCK = array(u32, WORDS);
const EMPTY = array(u32, 0);
const Marker = struct("Marker", {});
const AREA_WORDS = [3, 1, 0, 0]; // the last two queues have no scratch

export function main(): void {
  unsafe: {
    const block = alloc_zeroed(BLOCK);
    const base = block.cast(u32);
    let at = 0;
    let empties = 0;
    for (let q = 0; q < AREA_WORDS.length; q++) {
      const words = AREA_WORDS[q]!;
      if (words === 0) {
        // Past the end of the block for these queues: a dangling but aligned, non-null address.
        const area = base.wrapping_add(at + 2 * q).cast(EMPTY).as_mut();
        const again = area.reborrow_mut();
        empties += again.read().length + 1;
        const marker = base.wrapping_add(at + 8 * q).cast(Marker).as_mut();
        marker.reborrow_mut().write({});
      } else {
        for (let w = 0; w < words; w++) base.add(at + w).write(q * 10 + w);
      }
      at += words;
    }
    // A zero-sized `&mut` at the very end of the block, one past its last byte, and one inside.
    const tail = base.add(WORDS).cast(EMPTY).as_mut();
    const head = base.cast(Marker).as_mut();
    console.log(empties, tail.read().length, head.read() !== undefined);
    // The block's own pointer still reads and writes every word: no zero-sized retag popped it.
    base.add(3).write(base.read() + base.add(1).read() + base.add(2).read());
    console.log(base.add(3).read());
    dealloc(block, BLOCK);
  }
}
