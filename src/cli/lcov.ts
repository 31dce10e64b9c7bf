/**
 * Line coverage in the lcov tracefile format (`genhtml`, Codecov, editors' coverage gutters read
 * it): one record per module with a `DA:<line>,<hits>` line per coverable line.
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
    for (const l of lines) out += `DA:${l.line},${l.hit ? 1 : 0}\n`;
    out += `LF:${lines.length}\nLH:${lines.filter((l) => l.hit).length}\nend_of_record\n`;
  }
  return out;
}
