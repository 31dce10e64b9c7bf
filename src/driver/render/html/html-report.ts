/**
 * The HTML report of a `kmiri test` run (`kmiri test --html DIR`): `index.html` with the summary,
 * the coverage table, the findings and the unsafe regions no test ran, and one page per source
 * file under `files/` with its coverage, its unsafe regions and each finding at its line (a data
 * race with its two accesses side by side). Every page is self-contained (inline CSS, no
 * scripts, no external resources) and readable without JavaScript or colour.
 *
 * {@link renderHtmlReport} is pure (sources come through `readSource`); {@link writeHtmlReport}
 * writes its pages to a directory.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SourceLocation } from "../../../interp/report.js";
import type { TestRunResult } from "../../results.js";
import { renderIndexPage } from "./index-page.js";
import { FILES_DIR, lineAnchor, pageNames } from "./page-names.js";
import { renderSourcePage } from "./source-page.js";
import type { LocationLink, PlacedFinding } from "./ub-report-html.js";

/** Options of {@link renderHtmlReport}. */
export interface HtmlReportOptions {
  /** Reads a source file by its path relative to the working directory; `undefined` when it cannot. */
  readSource: (file: string) => string | undefined;
  /** The title of the report (default `kmiri test report`). */
  title?: string;
}

/** Every finding of the run with the test that found it and a unique anchor id. */
function placeFindings(result: TestRunResult): PlacedFinding[] {
  const out: PlacedFinding[] = [];
  for (const t of result.tests) {
    for (const report of t.ub ?? []) out.push({ report, test: `${t.module}::${t.name}`, id: `ub-${out.length + 1}` });
  }
  if (out.length === 0) for (const report of result.ub) out.push({ report, id: `ub-${out.length + 1}` });
  return out;
}

/**
 * The pages of the HTML report of a test run.
 * @param result - the run (`kmiri test`, with or without `--coverage-by dir` and `--many-seeds`).
 * @param options - the source reader and the title.
 * @returns page path relative to the report directory (`index.html`, `files/a.ts.html`) → HTML.
 * @example
 * ```ts
 * const pages = renderHtmlReport(result, { readSource: (f) => readFileSync(f, "utf8") });
 * pages.get("index.html"); // the summary, the coverage table, the findings
 * ```
 */
export function renderHtmlReport(result: TestRunResult, options: HtmlReportOptions): Map<string, string> {
  const title = options.title ?? "kmiri test report";
  const findings = placeFindings(result);
  const coverage = result.coverage;
  const files = new Set<string>([
    ...Object.keys(coverage?.lines ?? {}),
    ...(coverage?.unsafeRegions ?? []).map((r) => r.file),
    ...findings.map((f) => f.report.location.file),
  ]);
  const sources = new Map<string, string | undefined>();
  for (const file of files) {
    const text = options.readSource(file);
    // A file kmiri knows only from a finding and cannot read (an internal location) gets no page.
    if (text === undefined && !(coverage?.lines?.[file] || coverage?.unsafeRegions?.some((r) => r.file === file))) files.delete(file);
    else sources.set(file, text);
  }
  const names = pageNames([...files]);
  const linkFrom = (prefix: string): LocationLink => (loc: SourceLocation) => {
    const name = names.get(loc.file);
    return name === undefined ? undefined : `${prefix}${name}#${lineAnchor(loc.line)}`;
  };

  const pages = new Map<string, string>();
  const indexHrefs = new Map([...names].map(([file, name]) => [file, `${FILES_DIR}/${name}`]));
  pages.set("index.html", renderIndexPage({ result, title, findings, pages: indexHrefs, link: linkFrom(`${FILES_DIR}/`) }));
  for (const [file, name] of names) {
    const page = renderSourcePage(
      {
        file,
        source: sources.get(file),
        lines: coverage?.lines?.[file] ?? [],
        regions: (coverage?.unsafeRegions ?? []).filter((r) => r.file === file),
        functions: (coverage?.functions ?? []).filter((f) => f.file === file),
        findings: findings.filter((f) => f.report.location.file === file),
        title,
        indexHref: "../index.html",
      },
      linkFrom(""),
    );
    pages.set(`${FILES_DIR}/${name}`, page);
  }
  return pages;
}

/**
 * Writes the HTML report of a test run into `dir` (made if missing; pages already there are
 * overwritten, other files left alone).
 * @param result - the run.
 * @param dir - the report directory.
 * @param options - the source reader and the title.
 * @returns the path of `index.html`.
 * @throws the file system's error when a page cannot be written.
 */
export function writeHtmlReport(result: TestRunResult, dir: string, options: HtmlReportOptions): string {
  const pages = renderHtmlReport(result, options);
  for (const [path, html] of pages) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, html);
  }
  return join(dir, "index.html");
}
