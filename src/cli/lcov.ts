/**
 * Line coverage in the lcov tracefile format (`genhtml`, Codecov, editors' coverage gutters read
 * it): one record per module with a `DA:<line>,<hits>` line per coverable line, and its unsafe
 * regions as functions (`FN:<line>,<name>`, `FNDA:<hits>,<name>`, `FNF`, `FNH`) named
 * `unsafe-block@<line>` / `unsafe-fn@<line>`, so genhtml's function view lists them.
 */
import type { CoverageReport } from "../driver/results.js";

/**
 * The lcov text of a coverage report, or undefined when the report has no per-line data.
 * Hits are 0 or 1: kmiri records whether a line ran, not how often.
 * @param coverage - the coverage of a test run; `coverage.lines` maps a module (its source path,
 *   relative to the working directory) to its coverable lines.
 * @example
 * toLcov({ modules: [], total, lines: { "src/a.ts": [{ line: 3, hit: true }] } })
 * // "TN:\nSF:src/a.ts\nDA:3,1\nLF:1\nLH:1\nend_of_record\n"
 */
export function toLcov(coverage: CoverageReport): string | undefined {
  if (!coverage.lines) return undefined;
  let out = "";
  for (const file of Object.keys(coverage.lines).sort()) {
    const lines = [...coverage.lines[file]!].sort((a, b) => a.line - b.line);
    out += `TN:\nSF:${file}\n`;
    const regions = (coverage.unsafeRegions ?? []).filter((r) => r.file === file);
    if (regions.length > 0) {
      const seen = new Map<string, number>();
      const named = regions.map((r) => {
        const base = `unsafe-${r.kind === "function" ? "fn" : "block"}@${r.line}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        return { name: n === 1 ? base : `${base}#${n}`, r };
      });
      for (const { name, r } of named) out += `FN:${r.line},${name}\n`;
      for (const { name, r } of named) out += `FNDA:${r.hits},${name}\n`;
      out += `FNF:${named.length}\nFNH:${named.filter(({ r }) => r.hits > 0).length}\n`;
    }
    for (const l of lines) out += `DA:${l.line},${l.hit ? 1 : 0}\n`;
    out += `LF:${lines.length}\nLH:${lines.filter((l) => l.hit).length}\nend_of_record\n`;
  }
  return out;
}
