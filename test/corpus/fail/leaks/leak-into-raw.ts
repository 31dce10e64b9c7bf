// A timer is armed by handing a `Box<Timer>` to the timer wheel as a raw pointer. The wheel is torn
// down without reclaiming its entries, and no static refers to the timer: its memory is leaked,
// reported where the box was allocated (inside `arm_timer`).
import { Box, struct, u32, u64 } from "kmiri/rt";
import type { Ptr, Value } from "kmiri/rt";

const Timer = struct("Timer", { deadline: u64, cpu: u32 });

function arm_timer(deadline: bigint): Ptr<Value<typeof Timer>> {
  return Box.into_raw(Box.new(Timer, { deadline, cpu: 0 })); //~ ERROR: leak
}

export function main(): void {
  const wheel = [arm_timer(100n)];
  unsafe: {
    console.log(String(wheel[0].field("deadline").read()));
  }
  wheel.length = 0; // "tear down" the wheel
}
