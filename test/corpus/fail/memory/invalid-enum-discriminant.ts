// A page-state table keeps one `PageState` byte per frame. A stray byte store puts 7 into the
// table, and reading that entry as `PageState` produces an enum whose discriminant is none of the
// variants (0, 1, 2): an invalid value, UB at the read.
import { alloc_zeroed, dealloc, array, enum_, u8 } from "kmiri/rt";

const PageState = enum_("PageState", u8, { Free: 0, Allocated: 1, Reserved: 2 });
const FRAMES = 4;

export function main(): void {
  unsafe: {
    const table = alloc_zeroed(array(PageState, FRAMES)); // every frame Free
    const states = table.cast(PageState);
    states.add(1).write("Allocated");
    table.cast(u8).add(2).write(7); // the stray store
    let used = 0;
    for (let i = 0; i < FRAMES; i++) {
      if (states.add(i).read() !== "Free") used++; //~ ERROR: invalid-value
    }
    console.log(used);
    dealloc(table, array(PageState, FRAMES));
  }
}
