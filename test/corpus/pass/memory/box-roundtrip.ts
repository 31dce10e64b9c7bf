import { Box, u64 } from "kmiri/rt";

export function main(): void {
  const b = Box.new(u64, 41n);
  const p = Box.into_raw(b);
  unsafe: {
    p.write(p.read() + 1n);
    const back = Box.from_raw(p);
    console.log(back.read());
    back.drop();
  }
}
