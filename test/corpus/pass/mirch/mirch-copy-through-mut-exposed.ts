// The fixed `mirch-copy-through-shared-exposed`: the destination's address is exposed from a
// mutable reference, whose tag grants the copy's write.
import { array, local } from "kmiri/rt";
import { u8 } from "kmiri/rt";
import { memcpy_volatile } from "kmiri/mirch";

export function main(): void {
  const src = local(array(u8, 4), [1, 2, 3, 4]);
  const dst = local(array(u8, 4), [0, 0, 0, 0]);
  unsafe: {
    const to = dst.as_mut().as_mut_ptr().expose_provenance();
    memcpy_volatile(to, src.as_ptr().expose_provenance(), 4);
  }
  console.log(dst.as_ref().read().join(","));
}
