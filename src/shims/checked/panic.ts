/** Panics and assertions on the Machine: they stop the thread with Rust's messages. */
import { PanicStop } from "../../interp/report.js";
import { assertionMessage, valuesEqual } from "../debug-format.js";
import { current, running } from "./context.js";

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

/** `panic!(message)`. */
export function panic(message = "explicit panic"): never {
  return raise(message);
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
export function unreachable(message?: string): never {
  return raise(`internal error: entered unreachable code${message ? `: ${message}` : ""}`);
}
