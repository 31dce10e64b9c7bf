/**
 * The report's index page: the run's summary (tests passed, failed, with UB; the seed), the
 * per-module coverage table of `kmiri test` (lines, unsafe regions, native and checked time), one
 * row per source page, every finding with a link to its line, and the unsafe regions no test ran.
 */
import type { CoverageRow, TestRunResult, UnsafeRegion } from "../../results.js";
import { headline } from "../render.js";
import { coveragePercent } from "../render-tests.js";
import { escapeHtml } from "./escape.js";
import { htmlDocument } from "./layout.js";
import { lineAnchor } from "./page-names.js";
import type { LocationLink, PlacedFinding } from "./ub-report-html.js";

/** What the index shows beyond the run itself. */
export interface IndexPageInput {
  result: TestRunResult;
  title: string;
  /** The findings, in test order, with their anchors. */
  findings: readonly PlacedFinding[];
  /** Source file → its page's href from the index (`files/a.ts.html`). */
  pages: ReadonlyMap<string, string>;
  /** Links from the index to a position. */
  link: LocationLink;
}

/** As the terminal's table rounds it (render-tests.ts), so both reports of a run agree. */
function percent(covered: number, total: number): string {
  const pct = coveragePercent({ covered, total });
  return pct === undefined ? "–" : `${pct}%`;
}

function ms(value: number, tests: number): string {
  return tests === 0 ? "–" : value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** One row of the coverage table; the module links to its page when it is a file with one. */
function coverageRow(row: CoverageRow, pages: ReadonlyMap<string, string>, total = false): string {
  const href = pages.get(row.module);
  const name = href ? `<a href="${escapeHtml(href)}">${escapeHtml(row.module)}</a>` : escapeHtml(row.module);
  const ratio = row.tests === 0 || row.nativeMs <= 0 ? "–" : `${(row.checkedMs / row.nativeMs).toFixed(1)}×`;
  return (
    `<tr${total ? ` class="total"` : ""}><td class="mono">${name}</td><td class="num">${row.tests}</td>` +
    `<td class="num">${row.lines.covered}/${row.lines.total}</td><td class="num">${percent(row.lines.covered, row.lines.total)}</td>` +
    `<td class="num">${row.unsafe.covered}/${row.unsafe.total}</td>` +
    `<td class="num">${ms(row.nativeMs, row.tests)}</td><td class="num">${ms(row.checkedMs, row.tests)}</td><td class="num">${ratio}</td></tr>`
  );
}

/** `seed 3`, or with `--many-seeds`: `seeds 0..32` (the end excluded, as on the command line). */
function seeds(result: TestRunResult): string {
  return result.seedRange ? `seeds ${result.seedRange.from}..${result.seedRange.to}` : `seed ${result.seed}`;
}

function statusWord(status: "pass" | "fail" | "ub"): string {
  return status === "pass" ? "ok" : status === "fail" ? "FAILED" : "UB";
}

/**
 * The index page's HTML.
 * @param input - the run, its findings and the pages of its files.
 */
export function renderIndexPage(input: IndexPageInput): string {
  const { result, pages, link } = input;
  const passed = result.tests.filter((t) => t.status === "pass").length;
  const failed = result.tests.filter((t) => t.status === "fail").length;
  const ub = result.tests.filter((t) => t.status === "ub").length;
  const out: string[] = [];
  out.push(`<h1>${escapeHtml(input.title)}</h1>`);
  out.push(
    `<div class="summary" id="summary"><span>${result.tests.length} tests</span><span class="${passed === result.tests.length ? "good" : ""}">${passed} passed</span>` +
      `<span class="${failed ? "bad" : ""}">${failed} failed</span><span class="${ub ? "bad" : ""}">${ub} with UB</span>` +
      `<span>${seeds(result)}</span>${result.shard ? `<span>shard ${result.shard.index}/${result.shard.count}: ${result.tests.length} of ${result.shard.total} tests</span>` : ""}` +
      `<span>${(result.stats.ms / 1000).toFixed(2)} s</span></div>`,
  );

  const cov = result.coverage;
  if (cov && cov.modules.length > 0) {
    out.push(`<h2 id="coverage">Coverage by module</h2>`);
    out.push(
      `<table class="grid" id="modules"><thead><tr><th>module</th><th>tests</th><th>lines covered</th><th>%</th>` +
        `<th>unsafe regions run</th><th>native</th><th>checked</th><th>ratio</th></tr></thead><tbody>` +
        cov.modules.map((r) => coverageRow(r, pages)).join("") +
        coverageRow(cov.total, pages, true) +
        `</tbody></table>`,
    );
  }

  out.push(`<h2 id="files">Source files</h2>`);
  if (pages.size === 0) out.push(`<p class="muted">No source file was recorded.</p>`);
  else {
    const regions = cov?.unsafeRegions ?? [];
    const rows = [...pages].map(([file, href]) => {
      const lines = cov?.lines?.[file] ?? [];
      const own = regions.filter((r) => r.file === file);
      const found = input.findings.filter((f) => f.report.location.file === file).length;
      return (
        `<tr><td class="mono"><a href="${escapeHtml(href)}">${escapeHtml(file)}</a></td>` +
        `<td class="num">${lines.filter((l) => l.hit).length}/${lines.length}</td><td class="num">${percent(lines.filter((l) => l.hit).length, lines.length)}</td>` +
        `<td class="num">${own.filter((r) => r.hits > 0).length}/${own.length}</td><td class="num">${found}</td></tr>`
      );
    });
    out.push(
      `<table class="grid" id="file-pages"><thead><tr><th>file</th><th>lines covered</th><th>%</th><th>unsafe regions run</th><th>findings</th></tr></thead>` +
        `<tbody>${rows.join("")}</tbody></table>`,
    );
  }

  out.push(`<h2 id="findings">Findings (${input.findings.length})</h2>`);
  if (input.findings.length === 0) out.push(`<p>No undefined behaviour found.</p>`);
  else {
    const items = input.findings.map((f) => {
      const href = link(f.report.location);
      const at = escapeHtml(`${f.report.location.file}:${f.report.location.line}:${f.report.location.column}`);
      const where = href ? `<a href="${escapeHtml(href.replace(/#.*$/, ""))}#${escapeHtml(f.id)}">${at}</a>` : at;
      return `<li><code>${escapeHtml(f.report.kind)}</code> ${where}${f.test ? ` in <code>${escapeHtml(f.test)}</code>` : ""}: ${escapeHtml(headline(f.report))}</li>`;
    });
    out.push(`<ul class="findings">${items.join("")}</ul>`);
  }

  const unrun: UnsafeRegion[] = (cov?.unsafeRegions ?? []).filter((r) => r.hits === 0);
  out.push(`<h2 id="unrun-unsafe">Unsafe regions not run (${unrun.length})</h2>`);
  if (unrun.length === 0) out.push(`<p>Every unsafe region ran in some test.</p>`);
  else {
    const items = unrun.map((r) => {
      const text = escapeHtml(`${r.file}:${r.line}-${r.endLine}`);
      const page = pages.get(r.file);
      const where = page ? `<a href="${escapeHtml(page)}#${lineAnchor(r.line)}">${text}</a>` : text;
      return `<li>${where} (unsafe ${r.kind})</li>`;
    });
    out.push(`<ul class="findings">${items.join("")}</ul>`);
  }

  out.push(`<h2 id="tests">Tests (${result.tests.length})</h2>`);
  // With --many-seeds, the seeds each test failed with (its `FAILING SEED` lines in the terminal).
  const many = result.seedRange !== undefined;
  out.push(
    `<table class="grid" id="test-list"><thead><tr><th>test</th><th>status</th>${many ? "<th>failing seeds</th>" : ""}<th>time</th></tr></thead><tbody>` +
      result.tests
        .map((t) => {
          const name = `${t.module}::${t.name}`;
          const failing = many ? `<td class="mono">${escapeHtml((t.failingSeeds ?? []).join(", ")) || "none"}</td>` : "";
          return `<tr><td class="mono">${escapeHtml(name)}</td><td class="status-${t.status}">${statusWord(t.status)}</td>${failing}<td class="num">${t.ms.toFixed(1)} ms</td></tr>`;
        })
        .join("") +
      `</tbody></table>`,
  );
  return htmlDocument(input.title, out.join("\n"));
}
