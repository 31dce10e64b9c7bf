/**
 * A value that does not fit its layout — a struct value missing a field, an enum variant that does
 * not exist, a `u32` written with `1.5` or `-1`, a field or index projection the type does not
 * have, a layout argument that is no layout. Rust rejects these at compile time; TypeScript's
 * types usually do too, but a program can get past them (`as any`, plain JavaScript, arithmetic
 * that leaves a type's range), and the Machine reports them as rustc would, with its error code as
 * the title.
 */
import { OVERFLOWING_LITERALS } from "./layouts.js";
import type { MemoryHost } from "./seam.js";

/** The help line of every type error. */
const TYPE_ERROR_HELP =
  "kmiri checks the values and projections a program uses against their layouts; TypeScript's types did not catch this one";

/** The help line of an integer out of its type's range: JavaScript arithmetic neither wraps nor panics. */
const OUT_OF_RANGE_HELP =
  "JavaScript arithmetic neither wraps nor panics: wrap the value where Rust would wrap (`wrapping_add`: `(a + b) >>> 0`, " +
  "`& 0xff`, `BigInt.asUintN(64, x)`), or check it where Rust would panic on the overflow";

/**
 * Reports a type error as rustc words it: title `error[E0609]`, kind `unsupported`. The code
 * {@link OVERFLOWING_LITERALS} is rustc's deny-by-default lint, not a numbered error: the title is
 * then empty (rendered `error: literal out of range for \`u8\``, as rustc prints it) and the
 * lint's note follows. Never returns.
 */
export function reportTypeError(host: Pick<MemoryHost, "report">, code: string, message: string): never {
  if (code === OVERFLOWING_LITERALS) {
    return host.report("unsupported", message, {
      title: "",
      label: "a value out of its type's range",
      help: [{ message: OUT_OF_RANGE_HELP }, { message: TYPE_ERROR_HELP }],
      notes: [`\`#[deny(${OVERFLOWING_LITERALS})]\` on by default`],
    });
  }
  return host.report("unsupported", message, {
    title: `error[${code}]`,
    label: "a value or projection of the wrong type",
    help: [{ message: TYPE_ERROR_HELP }],
  });
}
