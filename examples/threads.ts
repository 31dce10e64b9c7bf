// Threads on the Machine: each CPU prints; the order depends on the seed.
// Try `npx kmiri run examples/threads.ts --seed 1` and `--seed 2`.
import { spawn, Box, u64 } from "kmiri/rt";

function work(cpu: number, steps: number): bigint {
  let sum = 0n;
  for (let i = 0; i < steps; i++) {
    console.log(`cpu${cpu}: step ${i}`);
    sum += BigInt(i * cpu);
  }
  return sum;
}

export function main(): void {
  const handles = [1, 2, 3].map((cpu) => spawn(() => work(cpu, 3)));
  const total = Box.new(u64, 0n);
  for (const h of handles) total.write(total.read() + h.join());
  console.log("total:", total.read());
  total.drop();
}
