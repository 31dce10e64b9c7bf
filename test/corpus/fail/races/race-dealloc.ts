//@ flags: --preemption-rate 0
// A buffer is freed while a CPU that read it was never joined: the deallocation (a write of every
// byte) races with the read. Miri: `tests/fail/data_race/dealloc_read_race1.rs`.
import { Box, array, spawn, u32, yield_now } from "kmiri/rt";

export function main(): void {
  const buf = Box.new(array(u32, 4), [1, 2, 3, 4]);
  const reader = spawn(() => buf.read()[2]);
  yield_now(); // the reader runs now
  buf.drop(); //~ ERROR: data-race
  reader.join();
}
