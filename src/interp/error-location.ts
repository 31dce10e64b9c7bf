/**
 * Where in the program an exception was raised, from V8's stack trace: compiled modules carry a
 * `kmiri://module/<index>/<file>` URL, their text keeps the module's line numbers, and the
 * splicer maps columns back; the loader's source map does the rest.
 */
import type { CompiledProgram } from "./compile/index.js";
import { MODULE_URL_PREFIX } from "./compile/index.js";
import type { SourceLocation } from "./report.js";

const FRAME = new RegExp(`${MODULE_URL_PREFIX.replace(/[/.]/g, "\\$&")}(\\d+)/[^:]*:(\\d+):(\\d+)`);

/** The `.ts` position of the innermost program frame of `e`'s stack, if it has one. */
export function programLocationOfError(program: CompiledProgram, e: unknown): SourceLocation | undefined {
  if (!(e instanceof Error) || typeof e.stack !== "string") return undefined;
  const m = FRAME.exec(e.stack);
  if (!m) return undefined;
  const mod = program.modules[Number(m[1])];
  if (!mod) return undefined;
  const line = Number(m[2]);
  const column = Number(m[3]) - 1;
  const code = mod.compiled.code;
  let offset = 0;
  for (let l = 1; l < line; l++) offset = code.indexOf("\n", offset) + 1;
  const jsOffset = mod.compiled.toJsOffset(offset + column);
  const js = mod.source.js;
  let jsLine = 1;
  let lineStart = 0;
  for (let i = js.indexOf("\n"); i !== -1 && i < jsOffset; i = js.indexOf("\n", i + 1)) {
    jsLine++;
    lineStart = i + 1;
  }
  const p = mod.source.toSource(jsLine, jsOffset - lineStart);
  return { file: mod.source.displayPath, line: p.line, column: p.column };
}

/** True when the innermost frame that is not a built-in's belongs to kmiri rather than the program. */
export function raisedByKmiri(e: unknown): boolean {
  if (!(e instanceof Error) || typeof e.stack !== "string") return false;
  for (const line of e.stack.split("\n").slice(1)) {
    if (line.includes(MODULE_URL_PREFIX)) return false;
    if (/\((node:|<anonymous>|native)|at (node:|<anonymous>|native)/.test(line)) continue;
    if (/at .*[/\\]/.test(line)) return true;
  }
  return false;
}
