// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): `struct(name, fields, { repr: "Rust" })` (a repr other
// than "C"/"packed") is reported as `internal error in kmiri: TypeError: struct Bad: repr must be
// "C" or "packed", got "Rust"`, exit status 2 — the program's error, shown as kmiri's bug.
// `struct(name, fields, null)` fails the same way (`reading 'repr'`).
//
// src/interp/memory/layouts.ts `struct` (≈ lines 824-831): `options.repr` is read from a possibly
// null `options`, and a bad repr is a plain `throw new TypeError(…)` instead of `layoutError`
// (rustc: E0552 "unrecognized representation hint"), as `enum_` does for its repr.
//
// Generator features: `misuse.layout.struct-repr-rust`, `misuse.arg.struct.2.null`.
import { struct, u32 } from "kmiri/rt";

export function main(): void {
  const Bad = struct("Bad", { a: u32 }, { repr: "Rust" as any });
  console.log(Bad.size);
}
