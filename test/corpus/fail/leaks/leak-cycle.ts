// A parent task and its child point at each other through raw `peer` pointers. When the handles
// go away nobody frees either task: the cycle keeps nothing alive that a static can reach, so both
// allocations are leaked (Miri reports each leaked allocation where it was allocated).
import { Box, null_mut, ptr, struct, u32 } from "kmiri/rt";
import type { Layout, Ptr } from "kmiri/rt";

interface TaskV {
  peer: Ptr<TaskV>;
  tid: number;
}
const Task: Layout<TaskV> = struct("Task", { peer: ptr((): Layout<TaskV> => Task), tid: u32 });

export function main(): void {
  const parent = Box.into_raw(Box.new(Task, { peer: null_mut(Task), tid: 1 })); //~ ERROR: leak
  const child = Box.into_raw(Box.new(Task, { peer: parent, tid: 2 })); //~ ERROR: leak
  unsafe: {
    parent.field("peer").write(child);
    console.log(parent.field("peer").read().field("tid").read());
  }
}
