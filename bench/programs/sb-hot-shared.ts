// Stacked Borrows workload 2 (bench/sb-scaling.mjs): a long-lived shared reference read in a hot
// loop while short-lived borrows come and go around it: shared reborrows of it (which pile up
// above it until the GC removes the dead ones), `*const` pointers made from it, and `&mut`
// borrows of the rest of the buffer. Finding the long-lived tag under the short-lived ones is the
// lookup cache's job.
import { array, Box, u32 } from "kmiri/rt";

const N = 1_000_000; // bench/sb-scaling.mjs also runs a copy with 2N here (programs cannot read the environment)
const Buf = array(u32, 16);

export function main(): void {
  const buf = Box.new(Buf, new Array<number>(16).fill(1));
  const owner = buf.as_mut();
  const header = owner.index(0); // the long-lived `&buf[0]`
  let sum = 0;
  for (let i = 0; i < N; i += 4) {
    sum += header.read(); //                          the long-lived tag
    sum += header.reborrow().read(); //               let t = &*header; *t
    unsafe: {
      sum += header.as_ptr().read(); //               (header as *const u32).read()
    }
    owner.index_mut(1 + (i & 7)).write(i & 0xffff); // &mut buf[1 + i % 8] = …
  }
  console.log(sum >>> 0);
  buf.drop();
}
