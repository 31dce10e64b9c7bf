/** Panics and assertions in native mode: the same messages as on the Machine. */
import { assertionMessage, valuesEqual } from "../debug-format.js";

/** A panic in native mode. */
export class NativePanic extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Panic";
  }
}

/** `panic!(message)`. A message that is no string becomes text without failing (a Symbol, a null-prototype object). */
export function panic(message: unknown = "explicit panic"): never {
  let text: string;
  try {
    text = typeof message === "string" ? message : String(message);
  } catch {
    text = `a ${typeof message} that cannot be shown as text`;
  }
  throw new NativePanic(text);
}

/** `assert!(condition, message)`. */
export function assert(condition: boolean, message?: string): asserts condition {
  if (!condition) throw new NativePanic(message ?? "assertion failed");
}

/** `assert_eq!(left, right, message)`. */
export function assert_eq<T>(left: T, right: T, message?: string): void {
  if (!valuesEqual(left, right)) throw new NativePanic(assertionMessage("==", left, right, message));
}

/** `assert_ne!(left, right, message)`. */
export function assert_ne<T>(left: T, right: T, message?: string): void {
  if (valuesEqual(left, right)) throw new NativePanic(assertionMessage("!=", left, right, message));
}

/** `unreachable!(message)`. */
export function unreachable(message?: string): never {
  throw new NativePanic(`internal error: entered unreachable code${message ? `: ${message}` : ""}`);
}
