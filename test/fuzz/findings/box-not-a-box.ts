// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): `Box.leak(x)` with an `x` that is no Box (undefined,
// null, a number, a pointer, an object...) fails inside kmiri: `internal error in kmiri: TypeError:
// Cannot read properties of undefined (reading 'address')`; `Box.into_raw(undefined)` /
// `Box.into_raw(null)` the same (`reading 'raw'`). Exit status 2.
//
// src/shims/checked/memory.ts `Box.leak` (≈ line 603) reads `b.raw.address` and `Box.into_raw` (≈
// line 590) returns `b.raw`, with no `instanceof BoxImpl` check — unlike `Box.from_raw`, which
// reports E0308 through `notAPtr`. (`Box.into_raw(3)` quietly returns `undefined`.)
//
// Generator features: `misuse.arg.Box.leak.0.*`, `misuse.arg.Box.into_raw.0.{undefined,null}`.
import { Box } from "kmiri/rt";

export function main(): void {
  const r = Box.leak(undefined as any);
  console.log(r);
}
