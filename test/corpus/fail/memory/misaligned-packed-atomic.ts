// A packed shared-memory mailbox `{ tag: u8, seq: AtomicU64 }` puts its atomic sequence counter at
// offset 1. Atomics must be aligned to their size, and a `&AtomicU64` must be 8-aligned: making the
// reference to the packed field is UB (Rust rejects `&mailbox.seq` outright; going through a raw
// pointer does not make it aligned).
import { alloc_zeroed, dealloc, array, struct, u8, u64, AtomicU64 } from "kmiri/rt";

const Mailbox = struct("Mailbox", { tag: u8, seq: AtomicU64 }, { repr: "packed" });
const BACKING = array(u64, 2); // 8-aligned memory for the 9-byte mailbox

export function main(): void {
  unsafe: {
    const mem = alloc_zeroed(BACKING);
    const mb = mem.cast(Mailbox);
    const seq = mb.field("seq").as_ref(); //~ ERROR: misaligned
    seq.fetch_add(1n, "SeqCst");
    dealloc(mem, BACKING);
  }
}
