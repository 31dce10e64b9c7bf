/**
 * Line coverage in the lcov tracefile format (`genhtml`, Codecov, editors' coverage gutters read
 * it): one record per module with a `DA:<line>,<count>` line per coverable line, and as lcov
 * functions (`FN:<line>,<name>`, `FNDA:<count>,<name>`, `FNF`, `FNH`) first the module's functions
 * with their calls (named as backtraces name them: `Frame::new`; a name the file has twice gets
 * `@<line>`), then its unsafe regions, named `unsafe-block@<line>` / `unsafe-fn@<line>`, so
 * genhtml's function view lists which functions and which unsafe regions ran. Counts are real
 * execution counts, summed over the tests (and seeds).
 */
import type { CoverageReport } from "../results.js";

/**
 * The lcov text of a coverage report, or undefined when the report has no per-line data.
 * A line's count is its `hits` (how often it ran, summed over the tests and seeds); a line without
 * `hits` counts 1 when `hit`, else 0. A function's `FNDA` count is its calls, an unsafe region's
 * how often it was entered.
 * @param coverage - the coverage of a test run; `coverage.lines` maps a module (its source path,
 *   relative to the working directory) to its coverable lines.
 * @example
 * toLcov({ modules: [], total, lines: { "src/a.ts": [{ line: 3, hit: true, hits: 7 }] } })
 * // "TN:\nSF:src/a.ts\nDA:3,7\nLF:1\nLH:1\nend_of_record\n"
 */
export function toLcov(coverage: CoverageReport): string | undefined {
  if (!coverage.lines) return undefined;
  let out = "";
  for (const file of Object.keys(coverage.lines).sort()) {
    const lines = [...coverage.lines[file]!].sort((a, b) => a.line - b.line);
    out += `TN:\nSF:${file}\n`;
    const fns = (coverage.functions ?? []).filter((f) => f.file === file);
    const regions = (coverage.unsafeRegions ?? []).filter((r) => r.file === file);
    const twice = new Set(fns.map((f) => f.name).filter((name, i, all) => all.indexOf(name) !== i));
    const records = [
      ...fns.map((f) => ({ base: twice.has(f.name) ? `${f.name}@${f.line}` : f.name, line: f.line, hits: f.hits })),
      ...regions.map((r) => ({ base: `unsafe-${r.kind === "function" ? "fn" : "block"}@${r.line}`, line: r.line, hits: r.hits })),
    ];
    if (records.length > 0) {
      // lcov wants a function's name once per file: a name still repeated gets `#2`, `#3`…
      const seen = new Map<string, number>();
      const named = records.map((r) => {
        const n = (seen.get(r.base) ?? 0) + 1;
        seen.set(r.base, n);
        return { name: n === 1 ? r.base : `${r.base}#${n}`, r };
      });
      for (const { name, r } of named) out += `FN:${r.line},${name}\n`;
      for (const { name, r } of named) out += `FNDA:${r.hits},${name}\n`;
      out += `FNF:${named.length}\nFNH:${named.filter(({ r }) => r.hits > 0).length}\n`;
    }
    for (const l of lines) out += `DA:${l.line},${l.hits ?? (l.hit ? 1 : 0)}\n`;
    out += `LF:${lines.length}\nLH:${lines.filter((l) => l.hit).length}\nend_of_record\n`;
  }
  return out;
}
