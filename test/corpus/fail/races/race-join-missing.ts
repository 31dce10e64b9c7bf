//@ flags: --preemption-rate 0
// The result of a worker is read before the worker is joined: the join edge comes too late.
import { Box, spawn, u32 } from "kmiri/rt";

export function main(): void {
  const result = Box.new(u32, 0);
  const worker = spawn(() => {
    result.write(6 * 7); //~ ERROR: data-race
  });
  console.log(result.read());
  worker.join();
  result.drop();
}
