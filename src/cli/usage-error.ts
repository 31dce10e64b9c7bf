/** The error every argument parser of the CLI throws (its own module, so parsers need not import args.ts). */

/** The arguments are wrong; the message says how, in one line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
