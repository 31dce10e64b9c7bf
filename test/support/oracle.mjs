// Runs a program's `main` on plain Node, with TypeScript loaded by tsx (esbuild) and `kmiri/rt`
// resolved to the built package: the reference semantics the language tests compare kmiri with.
// Usage: node --import tsx test/support/oracle.mjs FILE
import { pathToFileURL } from "node:url";
import path from "node:path";

const mod = await import(pathToFileURL(path.resolve(process.argv[2])).href);
mod.main();
