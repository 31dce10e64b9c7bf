import { null_mut, u32 } from "kmiri/rt";

export function main(): void {
  const p = null_mut(u32);
  unsafe: {
    p.write(1); //~ ERROR: null-pointer
  }
}
