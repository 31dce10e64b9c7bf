// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): an `Ordering` argument that is a bigint — `fence(1n)`,
// `r.load(1n)`, `r.compare_exchange(a, b, "SeqCst", 1n)`... — fails inside kmiri: `internal error
// in kmiri: TypeError: Do not know how to serialize a BigInt`, exit status 2.
//
// src/shims/checked/atomics.ts `checkOrdering` (≈ line 70) builds its E0308 message with
// `JSON.stringify(ordering) ?? String(ordering)`; JSON.stringify throws on a bigint (it returns
// undefined only for undefined, functions and symbols).
//
// Generator features: `misuse.arg.{fence,compiler_fence}.0.{bigint,negbigint}`, and the ordering
// arguments of `misuse.arg.Atomic.*` with `bigint`/`negbigint`.
import { fence } from "kmiri/rt";

export function main(): void {
  fence(1n as any);
}
