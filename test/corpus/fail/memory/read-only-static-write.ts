// The supported page sizes are an immutable `static`. A "tuning" path patches the 2 MiB entry
// through `&raw const PAGE_SIZES` cast to a mutable pointer. An immutable static lives in
// read-only memory: writing to it is UB, whatever pointer is used.
import { static_, array, usize } from "kmiri/rt";

const PAGE_SIZES = static_(array(usize, 3), [4096, 2 * 1024 * 1024, 1024 * 1024 * 1024], { name: "PAGE_SIZES" });

export function main(): void {
  const sizes = PAGE_SIZES.as_ptr().cast(usize);
  unsafe: {
    sizes.add(1).write(4 * 1024 * 1024); //~ ERROR: read-only
    console.log(sizes.add(1).read());
  }
}
