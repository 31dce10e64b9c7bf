// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no
// exception). FINDING (fuzz, at HEAD 093636b): a `ktest.should_panic(name, body, expected)` test
// whose body panics with a message that is not a string (`panic(42)`) made `testPath` (and so
// `kmiri test`) throw `TypeError: panic.message.includes is not a function`: src/driver/run.ts (≈
// line 485) called `.includes` on the panic's message, which was the program's value as it was (see
// panic-message-not-a-string.ts).
//
// Generator features: `misuse.arg.panic.0.*` in a `ktest.should_panic` test with an expected
// string.
import { ktest, panic } from "kmiri/rt";

ktest.should_panic("a number as panic message", () => {
  panic(42 as any);
}, "boom");
