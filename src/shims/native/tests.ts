/** `ktest` in native mode: a registry the native runner reads. */

/** A registered test. */
export interface NativeTest {
  name: string;
  body: () => void;
  shouldPanic: boolean;
  expected?: string;
}

/** Tests registered since the last {@link takeNativeTests}. */
let registry: NativeTest[] = [];

/** Returns the registered tests and starts a new registry. */
export function takeNativeTests(): NativeTest[] {
  const r = registry;
  registry = [];
  return r;
}

/** Registers a test (`#[ktest]`). */
export function ktest(name: string, body: () => void): void {
  registry.push({ name, body, shouldPanic: false });
}

/** `#[ktest] #[should_panic(expected = …)]`. */
ktest.should_panic = function should_panic(name: string, body: () => void, expected?: string): void {
  registry.push({ name, body, shouldPanic: true, expected });
};
