// Looks up the third task of a run queue that holds only two: the walk follows `next` past the
// tail, whose `next` is null, and reads the task's priority through the null pointer.
import { alloc, dealloc, null_mut, ptr, struct, u32 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

interface TaskV {
  prio: number;
  next: Ptr<TaskV>;
}
const Task: Layout<TaskV> = struct("Task", { prio: u32, next: ptr((): Layout<TaskV> => Task) });

function nth_prio(head: Ptr<TaskV>, n: number): number {
  "unsafe";
  let cur = head;
  for (let i = 0; i < n; i++) cur = cur.field("next").read();
  return cur.field("prio").read(); //~ ERROR: null-pointer
}

export function main(): void {
  unsafe: {
    const second = alloc(Task);
    second.write({ prio: 5, next: null_mut(Task) });
    const first = alloc(Task);
    first.write({ prio: 1, next: second });
    console.log(nth_prio(first, 2));
    dealloc(first, Task);
    dealloc(second, Task);
  }
}
