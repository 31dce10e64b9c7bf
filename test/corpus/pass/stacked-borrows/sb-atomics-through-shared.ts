// Atomics through shared references: an atomic is an `UnsafeCell`, so its bytes under `&T` are
// SharedReadWrite and every shared reference may store to them, while the struct's plain fields
// are frozen and only read. Two CPUs share one `&Frame` (no UB, no race: atomics only).
import { AtomicU32, Box, spawn, struct, u64 } from "kmiri/rt";
import type { Ref } from "kmiri/rt";

const Frame = struct("Frame", { paddr: u64, ref_count: AtomicU32, map_count: AtomicU32 });
type FrameV = { paddr: bigint; ref_count: number; map_count: number };

function clone_frame(f: Ref<FrameV>): bigint {
  f.field("ref_count").fetch_add(1, "Relaxed");
  return f.field("paddr").read();
}

export function main(): void {
  const frame = Box.new(Frame, { paddr: 0x8000_1000n, ref_count: 1, map_count: 0 });
  const shared = frame.as_ref();
  const other = frame.as_ref();
  const cpus = [0, 1].map((c) =>
    spawn(() => {
      for (let i = 0; i < 3; i++) {
        clone_frame(c === 0 ? shared : other);
        (c === 0 ? other : shared).field("map_count").fetch_add(1, "AcqRel");
      }
    }),
  );
  for (const cpu of cpus) cpu.join();
  console.log(shared.field("ref_count").load("Acquire"), other.field("map_count").load("Acquire"), shared.read().paddr.toString(16));
  frame.drop();
}
