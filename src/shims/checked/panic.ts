/** Panics and assertions on the Machine: they stop the thread with Rust's messages. */
import { PanicStop } from "../../interp/report.js";
import { assertionMessage, valuesEqual } from "../debug-format.js";
import { current, running } from "./context.js";
import { describeThrown } from "../../interp/error-location.js";

function raise(message: string): never {
  const h = current;
  throw new PanicStop(message, h.siteLocation(h.currentSite()), h.threadName(), h.backtrace());
}

/** The source text of the arguments of the call running now (`x > 0` of `assert(x > 0)`). */
function callArgsText(): string | undefined {
  const m = running;
  if (m === null) return undefined;
  const site = m.currentSite();
  if (site < 0) return undefined;
  const loc = m.siteLocation(site);
  const mod = m.program.modules.find((x) => x.source.displayPath === loc.file);
  if (!mod || loc.endLine !== loc.line) return undefined;
  const line = mod.source.source.split("\n")[loc.line - 1];
  const call = line?.slice(loc.column - 1, (loc.endColumn ?? line.length + 1) - 1);
  const m2 = call && /^[\w$.]+\s*\(([\s\S]*)\)$/.exec(call);
  if (!m2) return undefined;
  // Only the first argument: cut at a top-level comma.
  let depth = 0;
  const args = m2[1];
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === "," && depth === 0) return args.slice(0, i).trim();
  }
  return args.trim();
}

/** `panic!(message)`. A message that is no string is described (`panic_any`), never run. */
export function panic(message: unknown = "explicit panic"): never {
  // Fault injection for kmiri's own tests (KMIRI_FAULT_INJECTION=panic): this shim then fails
  // inside kmiri, as a bug of kmiri would, so that the tests see how kmiri reports its own bugs.
  if (process.env.KMIRI_FAULT_INJECTION === "panic") (undefined as unknown as { injected: number }).injected;
  return raise(panicText(message));
}

/** The text of a panic's message: a string as it is, anything else as kmiri describes a thrown value. */
export function panicText(message: unknown): string {
  return typeof message === "string" ? message : describeThrown(message);
}

/** `assert!(condition, message)`. */
export function assert(condition: boolean, message?: string): asserts condition {
  if (!condition) raise(message ?? `assertion failed: ${callArgsText() ?? "condition"}`);
}

/** `assert_eq!(left, right, message)`: structural equality. */
export function assert_eq<T>(left: T, right: T, message?: string): void {
  if (!valuesEqual(left, right)) raise(assertionMessage("==", left, right, message));
}

/** `assert_ne!(left, right, message)`. */
export function assert_ne<T>(left: T, right: T, message?: string): void {
  if (valuesEqual(left, right)) raise(assertionMessage("!=", left, right, message));
}

/** `unreachable!(message)`. */
export function unreachable(message?: unknown): never {
  return raise(`internal error: entered unreachable code${message ? `: ${panicText(message)}` : ""}`);
}
