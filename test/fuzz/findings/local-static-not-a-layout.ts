// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): `local(x)` and `static_(x, v)` with an `x` that is no
// layout (undefined, a number, a string, an object...) fail inside kmiri: `internal error in kmiri:
// RangeError: kmiri internal error: alignment undefined is not a power of two` (or `reading 'size'`
// for undefined/null), exit status 2. `static_(L, v, null)` fails the same way (`reading 'mut'`).
//
// src/shims/checked/locals.ts `local` (≈ line 94) and src/shims/checked/statics.ts `static_` (≈
// lines 135-137) pass `layout.size`/`layout.align` to `Memory.allocate` without the `isLayout`
// check that `alloc`, `Box.new`, `null_mut`... make (`notALayout`, E0308); `static_` reads
// `options.mut` from a possibly null `options`. (test/fixtures/engine/ internal-error.ts uses
// `local(undefined)` on purpose as kmiri's example of an internal error.)
//
// Generator features: `misuse.arg.local.0.*`, `misuse.arg.static_.0.*` (but `.layout`),
// `misuse.arg.static_.2.null`.
import { local } from "kmiri/rt";

export function main(): void {
  const x = local(3 as any);
  console.log(x);
}
