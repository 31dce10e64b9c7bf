/**
 * The `kmiri/rt` entry point of the package. Imported by a program running under kmiri, this
 * module is replaced by the checked runtime on the Machine; imported by plain Node, it is the
 * native runtime (no checks). See api/rt.d.ts in the design for the contract.
 */
export * from "./native/index.js";
