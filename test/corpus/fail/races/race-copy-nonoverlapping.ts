//@ flags: --preemption-rate 0
// A DMA-style bounce copy reads a buffer that another CPU is still filling: the bulk copy's read
// races with the writes.
import { alloc_zeroed, array, copy_nonoverlapping, dealloc, spawn, u8 } from "kmiri/rt";

const Buf = array(u8, 16);

export function main(): void {
  unsafe: {
    const src = alloc_zeroed(Buf);
    const dst = alloc_zeroed(Buf);
    const filler = spawn(() => {
      unsafe: {
        for (let i = 0; i < 16; i++) src.cast(u8).add(i).write(i);
      }
    });
    const copier = spawn(() => {
      unsafe: {
        copy_nonoverlapping(src.cast(u8), dst.cast(u8), 16); //~ ERROR: data-race
      }
    });
    filler.join();
    copier.join();
    dealloc(src, Buf);
    dealloc(dst, Buf);
  }
}
