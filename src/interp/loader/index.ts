/**
 * The program loader: turns entry files into parsed modules (acorn ASTs of the JavaScript that
 * runs) with synchronous source maps back to the `.ts` source. `.ts` files are compiled by tsc with
 * a content-keyed cache (see `tsc.ts`); `.js`/`.mjs` files are parsed as they are. Before a program
 * runs, the driver type-checks it (`typecheckProgram`, see `typecheck.ts`), cached by content too.
 */
export { loadProgram, loadPrograms, type LoadOptions, type SourceModule, type SourceProgram } from "./load.js";
export { LoadError, type LoadErrorDiagnostic, type LoadErrorLocation, type LoadErrorReason } from "./errors.js";
export { checkProgramTypes, typecheckProgram, type TypecheckOptions } from "./typecheck.js";
export { BUILTIN_MODULES, type ResolvedImport } from "./resolve.js";
export { tscStats, resetTscStats, type TscStats } from "./tsc.js";
export { type PositionMapper, type SourcePosition } from "./source-map.js";
