/** `ktest` on the Machine: tests register while their module is instantiated. */
import { machine } from "./machine.js";

/** Registers a test (`#[ktest]`); `kmiri test` runs each on a fresh Machine. */
export function ktest(name: string, body: () => void): void {
  register(name, body, false);
}

/** `#[ktest] #[should_panic(expected = …)]`: passes only if the body panics (with `expected` in the message). */
ktest.should_panic = function should_panic(name: string, body: () => void, expected?: string): void {
  register(name, body, true, expected);
};

function register(name: string, body: () => void, shouldPanic: boolean, expected?: string): void {
  const m = machine();
  m.tests.push({ name, body, shouldPanic, expected, module: m.instantiating?.source.displayPath ?? "" });
}
