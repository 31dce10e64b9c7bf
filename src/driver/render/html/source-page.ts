/**
 * The page of one source file: every line numbered and anchored (`#L12`), its coverage in a
 * gutter (`✓ 3` run three times, `✗ 0` never run, blank when the line holds no code), the unsafe
 * regions marked with their kind and whether they ran, each function's calls on its first line,
 * and each finding under its line.
 */
import type { FunctionCoverage, UnsafeRegion } from "../../results.js";
import { escapeHtml } from "./escape.js";
import { htmlDocument } from "./layout.js";
import { lineAnchor } from "./page-names.js";
import { ubReportHtml, type LocationLink, type PlacedFinding } from "./ub-report-html.js";

/** What a source page shows. */
export interface SourcePageInput {
  /** The file, relative to the working directory. */
  file: string;
  /** Its text, or `undefined` when it could not be read (the findings are still listed). */
  source: string | undefined;
  /** Its coverable lines and whether (or how often: `hits`) each ran. */
  lines: readonly { line: number; hit: boolean; hits?: number }[];
  /** Its unsafe regions. */
  regions: readonly UnsafeRegion[];
  /** Its functions and their calls (absent from reports made before kmiri counted calls). */
  functions?: readonly FunctionCoverage[];
  /** The findings located in this file. */
  findings: readonly PlacedFinding[];
  /** The report's title (shown in the page title). */
  title: string;
  /** The link to the index page. */
  indexHref: string;
}

/** The gutter cell of a line: text marker first, colour comes from the row's class. */
function hitsCell(entry: { hit: boolean; hits?: number } | undefined): { cls: string; html: string } {
  if (entry === undefined) return { cls: "not-coverable", html: `<td class="hits" title="no code on this line"></td>` };
  const count = entry.hits ?? (entry.hit ? 1 : 0);
  if (entry.hit) return { cls: "covered", html: `<td class="hits" title="run (${count}×)">✓ ${count}</td>` };
  return { cls: "uncovered", html: `<td class="hits" title="never run">✗ 0</td>` };
}

function regionWords(r: UnsafeRegion): string {
  return `unsafe ${r.kind}${r.hits > 0 ? "" : " — never run"}`;
}

/**
 * The HTML page of one source file.
 * @param input - the file, its coverage, regions and findings.
 * @param link - the report's link maker (for help lines and backtraces pointing elsewhere).
 */
export function renderSourcePage(input: SourcePageInput, link: LocationLink): string {
  const byLine = new Map(input.lines.map((l) => [l.line, l]));
  const findingsAt = new Map<number, PlacedFinding[]>();
  for (const f of input.findings) {
    const list = findingsAt.get(f.report.location.line) ?? [];
    list.push(f);
    findingsAt.set(f.report.location.line, list);
  }
  const text = input.source ?? "";
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  // Findings past the end of the text (or in a file that could not be read) still get shown.
  const lastFindingLine = Math.max(0, ...findingsAt.keys());
  while (lines.length < lastFindingLine) lines.push("");

  const covered = input.lines.filter((l) => l.hit).length;
  const functions = input.functions ?? [];
  const unrun = input.regions.filter((r) => r.hits === 0).length;
  const head =
    `<nav class="crumbs"><a href="${escapeHtml(input.indexHref)}">← report index</a></nav>\n` +
    `<h1 class="mono">${escapeHtml(input.file)}</h1>\n` +
    `<div class="summary"><span>lines covered: ${covered}/${input.lines.length}</span>` +
    `<span>unsafe regions run: ${input.regions.length - unrun}/${input.regions.length}</span>` +
    (functions.length ? `<span>functions called: ${functions.filter((f) => f.hits > 0).length}/${functions.length}</span>` : "") +
    `<span class="${input.findings.length ? "bad" : "good"}">findings: ${input.findings.length}</span></div>\n` +
    `<p class="legend"><span>✓ n: line run n times</span><span>✗ 0: line never run</span><span>blank: no code</span>` +
    `<span>▌ unsafe: inside an unsafe region</span><span>┆ unsafe, never run: inside a region no test ran</span></p>\n` +
    (input.source === undefined ? `<p class="muted">The source of this file could not be read.</p>\n` : "");

  const rows: string[] = [];
  lines.forEach((code, i) => {
    const n = i + 1;
    const hits = hitsCell(byLine.get(n));
    const inside = input.regions.filter((r) => r.line <= n && n <= r.endLine);
    const unrunInside = inside.some((r) => r.hits === 0);
    const classes = [hits.cls];
    let mark = "";
    if (inside.length > 0) {
      classes.push("in-unsafe");
      if (unrunInside) classes.push("unrun");
      const words = inside.map(regionWords).join("; ");
      mark = `<td class="mark" title="${escapeHtml(words)}">${unrunInside ? "┆ unsafe" : "▌ unsafe"}</td>`;
    } else mark = `<td class="mark"></td>`;
    const tags = input.regions
      .filter((r) => r.line === n)
      .map((r) => `<span class="region-tag${r.hits === 0 ? " unrun" : ""}">${escapeHtml(regionWords(r))} (lines ${r.line}–${r.endLine})</span>`)
      .join("") +
      functions
        .filter((f) => f.line === n)
        .map((f) => `<span class="fn-tag${f.hits === 0 ? " unrun" : ""}">${escapeHtml(f.name)}: ${f.hits === 0 ? "never called" : `${f.hits} call${f.hits === 1 ? "" : "s"}`}</span>`)
        .join("");
    const id = lineAnchor(n);
    rows.push(
      `<tr id="${id}" class="${classes.join(" ")}"><td class="ln"><a href="#${id}">${n}</a></td>${hits.html}${mark}` +
        `<td class="code">${escapeHtml(code)}${tags}</td></tr>`,
    );
    for (const f of findingsAt.get(n) ?? []) {
      rows.push(`<tr class="finding"><td colspan="3"></td><td>${ubReportHtml(f, link)}</td></tr>`);
    }
  });
  const table = `<table class="source"><tbody>\n${rows.join("\n")}\n</tbody></table>`;
  return htmlDocument(`${input.file} — ${input.title}`, `${head}${table}`);
}
