// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): `panic(m)` / `unreachable(m)` with a message `m` that is
// not a string.
//  - a Symbol (or an object without a prototype): `internal error in kmiri: TypeError: Cannot
//    convert a Symbol value to a string`, exit status 2 (this file);
//  - any other object: the run's `panic.message` is the program's own object (functions,
//    getters, class instances: not the JSON contract's string). `kmiri run --json` then runs its
//    getters — `panic({ get x() { throw new Error("g"); } })` makes `kmiri run --json` fail with
//    `error: internal error in kmiri: g` — and two runs of one seed give two different objects;
//  - a number (or any non-string) in a `ktest.should_panic(name, body, "expected")` test:
//    `testPath` throws `TypeError: panic.message.includes is not a function` (the exception
//    escapes `kmiri test`).
//
// src/shims/checked/panic.ts `panic`/`unreachable` (≈ lines 37, 57) pass the value on to `raise` →
// `new PanicStop(message, …)` (src/interp/report.ts ≈ line 132: `super(panicMessage)` converts it
// with String(), which throws for a Symbol; the object itself is kept as `panicMessage`);
// src/interp/machine.ts (≈ line 633) copies it into `PanicInfo.message`; src/driver/run.ts (≈ line
// 485) calls `panic.message.includes`. Rust's `panic!` formats its message: a string
// (`describeThrown` in src/interp/error-location.ts already turns thrown values into one).
//
// Generator features: `misuse.arg.panic.0.*` (but the string kinds),
// `misuse.arg.unreachable.0.{symbol,nullproto}`.
import { panic } from "kmiri/rt";

export function main(): void {
  panic(Symbol("why") as any);
}
