// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): kmiri builds some of its error messages with template
// strings of the program's values, which throws for a Symbol or an object without a prototype:
// `offset_of(S, Symbol())` fails inside kmiri with `internal error in kmiri: TypeError: Cannot
// convert a Symbol value to a string`, exit status 2. The same for `offset_of(S,
// Object.create(null))` (`Cannot convert object to primitive value`), `enum_(Symbol(), u8, {…})` /
// `enum_(Object.create(null), …)` (the name), `r.index_mut(Symbol())`,
// `p.index(Object.create(null))`, `r.field(Symbol())`, `p.field(Object.create(null))`.
//
// src/interp/memory/layouts.ts `offset_of` (≈ line 1151: `no field \`${field}\``) and `enum_` (≈
// line 975: `enum_("${name}", …)`); src/shims/checked/refs.ts `elemPtr`/`fieldPtr` (≈ lines
// 180-193: `${what}(${i})`); src/shims/checked/memory.ts `index`/`field` (≈ lines
// 154-173). `describeValue` (layouts.ts) formats any value safely and could be used instead.
//
// Generator features: `misuse.arg.offset_of.1.{symbol,nullproto}`,
// `misuse.arg.enum_.0.{symbol,nullproto}`,
// `misuse.arg.{Ptr.index,Ref.index,RefMut.index_mut,Ptr.field,Ref.field,RefMut.field_mut}.1.{symbol,nullproto}`.
import { offset_of, struct, u32 } from "kmiri/rt";

const S = struct("S", { a: u32 });

export function main(): void {
  console.log(offset_of(S, Symbol("f") as any));
}
