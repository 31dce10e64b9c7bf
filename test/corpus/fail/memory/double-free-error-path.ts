// `register_queue` frees the ring buffer itself when registration fails and returns false; the
// caller's error path does not know that and frees the ring again: a double free.
import { alloc, dealloc, array, u64 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

const RING = array(u64, 16);

function register_queue(ring: Ptr<bigint[]>, device_ok: boolean): boolean {
  "unsafe";
  if (!device_ok) {
    dealloc(ring, RING);
    return false;
  }
  return true;
}

export function main(): void {
  unsafe: {
    const ring = alloc(RING);
    if (!register_queue(ring, false)) {
      dealloc(ring, RING); //~ ERROR: double-free
    }
  }
}
