/**
 * A value that does not fit its layout — a struct value missing a field, an enum variant that does
 * not exist, a field or index projection the type does not have. Rust rejects these at compile
 * time; TypeScript's types usually do too, but a program can get past them (`as any`, plain
 * JavaScript), and the Machine reports them as rustc would, with its error code as the title.
 */
import type { MemoryHost } from "./seam.js";

/** Reports a type error as rustc words it: title `error[E0609]`, kind `unsupported`. Never returns. */
export function reportTypeError(host: Pick<MemoryHost, "report">, code: string, message: string): never {
  return host.report("unsupported", message, {
    title: `error[${code}]`,
    label: "a value or projection of the wrong type",
    help: [{ message: "kmiri checks the values and projections a program uses against their layouts; TypeScript's types did not catch this one" }],
  });
}
