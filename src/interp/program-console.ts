/**
 * `console` as a program sees it (on the Machine and natively): an object of the program's realm
 * whose methods format their arguments as Node's `console.log` does and print one line of output.
 *
 * Formatting never hands the program anything of kmiri's realm: Node calls an object's
 * `[util.inspect.custom]` method with its own `inspect` function and options, so custom inspect
 * methods are not called — except kmiri's own (a `Ptr` prints as Rust's `{:?}` of a pointer), for
 * the prototypes registered with {@link trustInspect}, at the top level of the arguments.
 *
 * The interface is declared here rather than as a `Pick` of the host's `Console`, so that the
 * Machine's published declarations need neither Node's nor the DOM's global types.
 *
 * @module
 */
import { formatWithOptions, types } from "node:util";
import { guestRealm } from "./guest-realm.js";

/** The `console` methods a program may call; each prints one line of program output. */
export interface ProgramConsole {
  /** Prints its arguments, formatted as Node's `console.log` does, as one line of output. */
  log(...args: unknown[]): void;
  /** The same as {@link log}: the Machine has one output stream. */
  error(...args: unknown[]): void;
  /** The same as {@link log}. */
  warn(...args: unknown[]): void;
  /** The same as {@link log}. */
  info(...args: unknown[]): void;
}

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

/** Prototypes of kmiri's classes whose `[util.inspect.custom]` method formats program output. */
const trusted = new WeakSet<object>();

/** Lets instances of `proto` format themselves with their `[util.inspect.custom]` method (a kmiri class). */
export function trustInspect(proto: object): void {
  trusted.add(proto);
}

/** One line of output for `console.log(...args)`. Runs none of the program's inspect hooks. */
export function formatProgramOutput(args: readonly unknown[]): string {
  const shown = args.map((a) => {
    if (typeof a !== "object" || a === null || types.isProxy(a)) return a;
    const proto = Object.getPrototypeOf(a) as Record<symbol, unknown> | null;
    if (proto === null || !trusted.has(proto)) return a;
    const own = Reflect.getOwnPropertyDescriptor(proto, INSPECT);
    return own !== undefined && typeof own.value === "function" ? Reflect.apply(own.value, a, []) : a;
  });
  return formatWithOptions({ colors: false, customInspect: false }, ...shown);
}

/**
 * A `console` of the program's realm whose methods call `print` with the formatted line (and
 * then `after`, e.g. to count a scheduling point).
 */
export function makeProgramConsole(print: (line: string) => void, after: () => void = () => {}): ProgramConsole {
  const kit = guestRealm().kit;
  const c = kit.object() as unknown as ProgramConsole;
  for (const name of ["log", "error", "warn", "info"] as const) {
    c[name] = kit.bridge(
      (...args: unknown[]) => {
        print(formatProgramOutput(args));
        after();
      },
      name,
    ) as ProgramConsole["log"];
  }
  return c;
}
