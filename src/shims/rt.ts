/**
 * The `kmiri/rt` entry point of the package. Imported by a program running under kmiri, this
 * module is replaced by the checked runtime on the Machine; imported by plain Node, it is the
 * native runtime (no checks). Its reference is docs/api/rt.md in the package (generated from these
 * declarations by scripts/api-docs.mjs).
 */
export * from "./native/index.js";
