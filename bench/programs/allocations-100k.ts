// Allocation and deallocation: 100,000 Box allocations each freed at once, then 100,000 live at
// the same time (written, read back, then freed).
import { Box, u64, type Box as BoxT } from "kmiri/rt";

const N = 100_000;

export function main(): void {
  let sum = 0n;
  for (let i = 0; i < N; i++) {
    const b = Box.new(u64, BigInt(i));
    sum += b.read();
    b.drop();
  }
  const live: BoxT<bigint>[] = [];
  for (let i = 0; i < N; i++) live.push(Box.new(u64, BigInt(i)));
  for (const b of live) {
    b.write(b.read() * 2n);
    sum += b.read();
  }
  for (const b of live) b.drop();
  console.log("checksum", sum);
}
