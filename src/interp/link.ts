/**
 * Evaluating a compiled module: its namespace object (live getters for its exports, `export *`
 * forwarding), and the call of its factory with the parameters the compiler expects (see
 * FACTORY_PARAMS in compile/instrument.ts). The Machine and the native runner share it; they
 * differ only in the environment they hand the module.
 */
import type { ProgramModule } from "./compile/index.js";
import type { ProgramConsole } from "./program-console.js";
import { G, GEN, sync, wrap, wrapClass, wrapObj } from "./runtime-kit.js";

/** A module namespace: its exported names, read through getters. */
export type Namespace = Record<string, unknown>;

/** What one instantiation of a module receives besides its imports. */
export interface ModuleEnv {
  /** The Machine (`$R` of the compiled code), or null for uninstrumented code. */
  runtime: unknown;
  /** `console` as the program sees it. */
  console: ProgramConsole;
  /** `Math` as the program sees it. */
  math: Math;
  /** Coverage counters of the module (statements, unsafe regions), or null. */
  lineHits: Uint8Array | null;
  unsafeHits: Uint8Array | null;
}

/**
 * Creates `mod`'s namespace in `namespaces` (before running it, so an import cycle finds it) and
 * runs the module's body with `env`; `importModule` resolves its imports.
 */
export function evaluateModule(
  mod: ProgramModule,
  namespaces: Map<string, Namespace>,
  importModule: (key: string) => Namespace,
  env: ModuleEnv,
): Namespace {
  const ns: Namespace = Object.create(null);
  namespaces.set(mod.source.path, ns);
  const define = (getters: Record<string, () => unknown>) => {
    for (const k of Object.keys(getters)) Object.defineProperty(ns, k, { get: getters[k], enumerable: true });
  };
  const star = (other: Namespace) => {
    for (const k of Object.keys(other)) {
      if (k !== "default" && !(k in ns)) Object.defineProperty(ns, k, { get: () => other[k], enumerable: true });
    }
  };
  mod.factory(
    env.runtime, importModule, define, star, env.console, env.math, env.lineHits, env.unsafeHits,
    GEN, G, wrap, wrapClass, wrapObj, sync,
  );
  return ns;
}
