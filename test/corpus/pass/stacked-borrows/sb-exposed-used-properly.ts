// An exposed pointer used properly: a `*mut` is exposed (its address handed to a device table as
// an integer), turned back into a pointer with `ptr_from_exposed`, written through, and the
// memory read afterwards through the original pointer. The wildcard may use the exposed
// SharedReadWrite. No UB (one integer-to-pointer warning).
import { alloc, array, dealloc, ptr_from_exposed, u64 } from "kmiri/rt";

const Ring = array(u64, 4);

export function main(): void {
  unsafe: {
    const ring = alloc(Ring);
    const raw = ring.as_mut().as_mut_ptr();
    raw.write([0n, 0n, 0n, 0n]);
    const descriptorAddr = raw.expose_provenance(); // what a device would be given
    const back = ptr_from_exposed(descriptorAddr, u64);
    for (let i = 0; i < 4; i++) back.add(i).write(BigInt(i) * 0x1000n);
    console.log(raw.read().map((x) => x.toString(16)).join(" "));
    dealloc(ring, Ring);
  }
}
