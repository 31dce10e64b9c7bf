/**
 * The report of an unsafe call made outside an unsafe region, and of operations kmiri does not
 * support yet — the two non-UB errors the memory shims raise.
 *
 * A checked UNSAFE shim starts with `if (!current.inUnsafe()) unsafeCallOutsideUnsafe("Ptr::read")`:
 * the test is inline (one call of the Machine's flag), the report out of line.
 */
import { current } from "./context.js";

/**
 * The title of an `unsafe-outside-unsafe` report. Rust rejects such a call at compile time with
 * error E0133, so it is rendered as rustc renders it rather than as Undefined Behavior.
 */
export const UNSAFE_CALL_TITLE = "error[E0133]";

/**
 * Reports a call of the unsafe function `name` outside an `unsafe:` block or `"unsafe"` function
 * (rustc's E0133 wording).
 */
export function unsafeCallOutsideUnsafe(name: string): never {
  return current.report(
    "unsafe-outside-unsafe",
    `call to unsafe function \`${name}\` is unsafe and requires unsafe block`,
    {
      title: UNSAFE_CALL_TITLE,
      label: "call to unsafe function",
      help: [{ message: 'wrap the call in an `unsafe: { ... }` block, or mark the enclosing function `"unsafe";`' }],
      notes: ["consult the function's documentation for information on how to avoid undefined behavior"],
    },
  );
}

/** Reports an operation kmiri does not support (yet): `unsupported operation: ...`. */
export function unsupported(message: string): never {
  return current.report("unsupported", message, {
    title: "unsupported operation",
    label: "unsupported operation occurred here",
    help: [
      {
        message:
          "this is likely not a bug in the program; it indicates that the program performed an operation that kmiri does not support",
      },
    ],
  });
}
