// The smallest kmiri program: `npx kmiri run examples/hello.ts`.
import { Box, u32 } from "kmiri/rt";

export function main(): void {
  const answer = Box.new(u32, 42);
  console.log("hello from the Machine, the answer is", answer.read());
  answer.drop();
}
