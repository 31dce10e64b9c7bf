// Locals are passed to helpers by reference (`&mut stats`, `&stats`) and by raw pointer, and used
// only while the function that owns them is running. Every use is within the locals' lifetime:
// no UB.
import { local, struct, u32 } from "kmiri/rt";
import type { Ptr, Ref, RefMut, Value } from "kmiri/rt";

const MemStats = struct("MemStats", { free: u32, used: u32 });
type MemStatsV = Value<typeof MemStats>;

function collect(out: RefMut<MemStatsV>, frames: number[]): void {
  for (const f of frames) {
    const field = f === 0 ? "free" : "used";
    const n = out.field(field).read();
    out.field_mut(field).write(n + 1);
  }
}

function total(s: Ref<MemStatsV>): number {
  return s.field("free").read() + s.field("used").read();
}

function reset_used(p: Ptr<MemStatsV>): void {
  "unsafe";
  p.field("used").write(0);
}

function report(frames: number[]): string {
  const stats = local(MemStats, { free: 0, used: 0 });
  collect(stats.as_mut(), frames);
  const before = total(stats.as_ref());
  unsafe: {
    reset_used(stats.as_ptr());
  }
  return `${before} ${stats.read().free} ${stats.read().used}`;
}

export function main(): void {
  console.log(report([0, 1, 1, 0, 0, 1, 0]));
  console.log(report([1, 1]));
}
