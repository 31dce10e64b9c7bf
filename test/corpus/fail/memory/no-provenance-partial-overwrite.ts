// A slot holds a tagged pointer to a task; the code clears the tag in the pointer's top byte with a
// single byte store. The address does not change, but a pointer is only a pointer when all 8 of its
// bytes come from one stored pointer: the byte store strips the provenance, so the pointer read
// back from the slot cannot be dereferenced.
import { alloc, dealloc, ptr, u8, u32, Box } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const task = Box.into_raw(Box.new(u32, 7));
    const slot = alloc(ptr(u32));
    slot.write(task);
    slot.cast(u8).add(7).write(0); // "clear the tag byte"
    const p = slot.read();
    const v = p.read(); //~ ERROR: no-provenance
    console.log(v);
    dealloc(slot, ptr(u32));
    Box.from_raw(task).drop();
  }
}
