// `current_task()` returns a null pointer before the scheduler has started, and the caller turns it
// into a `&Task` without checking. A reference can never be null: making it is UB at once.
import { null_mut, struct, u32 } from "kmiri/rt";
import type { Ptr, Value } from "kmiri/rt";

const Task = struct("Task", { tid: u32, state: u32 });

function current_task(): Ptr<Value<typeof Task>> {
  return null_mut(Task); // the scheduler has not run yet
}

export function main(): void {
  unsafe: {
    const task = current_task().as_ref(); //~ ERROR: invalid-value
    console.log(task.read().tid);
  }
}
