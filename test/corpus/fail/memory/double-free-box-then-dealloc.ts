// A task is handed to the run queue as a raw pointer (`Box::into_raw`). The run queue reclaims it
// with `Box::from_raw` and drops it, and the exit path frees the same pointer again with `dealloc`.
// The second free is of already-freed memory: a double free.
import { Box, dealloc, struct, u32, u64 } from "kmiri/rt";

const Task = struct("Task", { tid: u32, vruntime: u64 });

export function main(): void {
  const raw = Box.into_raw(Box.new(Task, { tid: 3, vruntime: 0n }));
  unsafe: {
    Box.from_raw(raw).drop(); // the run queue's cleanup
    dealloc(raw, Task); //~ ERROR: double-free
  }
}
