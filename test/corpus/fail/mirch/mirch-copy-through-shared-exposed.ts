// A volatile copy takes bare addresses: into `kmiri/rt` memory it is a wildcard access, checked
// against the tags the program exposed (Miri: an integer cast to a pointer). Here the only exposed
// tag of `dst` came from a shared reference, which grants no write.
import { array, local } from "kmiri/rt";
import { u8 } from "kmiri/rt";
import { memcpy_volatile } from "kmiri/mirch";

export function main(): void {
  const src = local(array(u8, 4), [1, 2, 3, 4]);
  const dst = local(array(u8, 4), [0, 0, 0, 0]);
  const shared = dst.as_ref();
  unsafe: {
    memcpy_volatile(shared.as_ptr().expose_provenance(), src.as_ptr().expose_provenance(), 4); //~ ERROR: stacked-borrows
  }
  console.log(shared.read());
}
