/**
 * Compiling a loaded program: the whole-program analysis, then each module to a factory
 * compiled once by V8, in the program's realm (guest-realm.ts). The result runs on any number of Machines (each instantiates it anew).
 */
import type { SourceModule } from "../loader/index.js";
import { analyzeProgram } from "./analyze.js";
import { compileModule, type CompiledModule } from "./instrument.js";
import { SiteTable } from "./sites.js";
import { guestRealm } from "../guest-realm.js";
import type { AnyNode } from "./walk.js";

export { CompileError, FACTORY_PARAMS, FRAME_MARK, SITE_MASK } from "./instrument.js";
export { SiteTable } from "./sites.js";

/** One module, compiled and evaluated to its factory. */
export interface ProgramModule {
  index: number;
  source: SourceModule;
  compiled: CompiledModule;
  /** The module body as a function of the factory parameters (see FACTORY_PARAMS). */
  factory: (...args: unknown[]) => void;
}

/** A compiled program, ready to be instantiated on Machines. */
export interface CompiledProgram {
  /** Instrumented for the Machine, or plain for native runs. */
  instrumented: boolean;
  modules: ProgramModule[];
  byPath: Map<string, ProgramModule>;
  sites: SiteTable;
  /**
   * Whether a module imports `kmiri/mirch`: the program is kernel code on Mirch, so its
   * `kmiri/rt` allocations live at Mirch's kernel-image addresses (both runtimes) and the Machine
   * boots Mirch before it runs.
   */
  usesMirch: boolean;
}

/** The URL V8 shows for a module's code in stack traces: `kmiri://module/<index>/<file>`. */
export const MODULE_URL_PREFIX = "kmiri://module/";

/** Compiles every module of a loaded program. Throws CompileError on unsupported syntax. */
export function compileProgram(modules: Iterable<SourceModule>, instrument: boolean): CompiledProgram {
  const list = [...modules];
  const rtImportsOf = (m: SourceModule) => {
    const names = new Map<string, string>();
    for (const st of m.ast.body as AnyNode[]) {
      if (st.type !== "ImportDeclaration") continue;
      const r = m.imports.get(st.source.value);
      if (!r || r.kind !== "builtin") continue;
      for (const sp of st.specifiers) {
        if (sp.type === "ImportSpecifier") names.set(sp.local.name, sp.imported.name ?? sp.imported.value);
      }
    }
    return names;
  };
  const analysis = instrument
    ? analyzeProgram(list.map((m) => ({ ast: m.ast as unknown as AnyNode, rtImports: rtImportsOf(m) })))
    : null;
  const sites = new SiteTable();
  const out: ProgramModule[] = [];
  const byPath = new Map<string, ProgramModule>();
  list.forEach((source, index) => {
    const compiled = compileModule(
      {
        path: source.path,
        displayPath: source.displayPath,
        js: source.js,
        ast: source.ast as unknown as AnyNode,
        toSource: (l, c) => source.toSource(l, c),
        source: source.source,
        resolve: (spec) => {
          const r = source.imports.get(spec);
          if (!r) return spec;
          return r.kind === "builtin" ? r.name : r.path;
        },
      },
      analysis,
      sites,
      instrument,
    );
    const url = `${MODULE_URL_PREFIX}${index}/${source.displayPath}`;
    const factory = guestRealm().compile(compiled.code, compiled.params, url) as ProgramModule["factory"];
    const pm: ProgramModule = { index, source, compiled, factory };
    out.push(pm);
    byPath.set(source.path, pm);
  });
  const usesMirch = list.some((m) => [...m.imports.values()].some((r) => r.kind === "builtin" && r.name === "kmiri/mirch"));
  return { instrumented: instrument, modules: out, byPath, sites, usesMirch };
}
