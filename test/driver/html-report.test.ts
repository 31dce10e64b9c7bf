/**
 * The HTML report (`kmiri test --html DIR`, src/driver/render/html/) without a browser: on
 * test/fixtures/html-report (passing tests, a data race in counter.ts, an unsafe block no test
 * runs and a use after free in driver.ts, and a hostile comment line), the pages hold the coverage
 * table, the markers, each finding at its line, the race's two accesses, and nothing that runs or
 * loads: no `<script`, no http(s) resource, the hostile line escaped. The browser test
 * (test/browser/html-report.test.ts) checks what a person sees.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { kmiri } from "../support/cli-in-process.js";
import { testPath } from "../../src/driver/test-path.js";
import { renderHtmlReport } from "../../src/driver/render/html/html-report.js";
import { escapeHtml } from "../../src/driver/render/html/escape.js";
import { coveragePercent } from "../../src/driver/render/render-tests.js";
import type { TestRunResult } from "../../src/driver/results.js";

const DIR = "test/fixtures/html-report";
const DRIVER = `${DIR}/driver.ts`;
const COUNTER = `${DIR}/counter.ts`;
const DRIVER_PAGE = "files/test_fixtures_html-report_driver.ts.html";
const COUNTER_PAGE = "files/test_fixtures_html-report_counter.ts.html";
const readSource = (f: string) => {
  try {
    return readFileSync(path.resolve(f), "utf8");
  } catch {
    return undefined;
  }
};

/** The `<tr id="L<n>" …>` row of a source page. */
function row(html: string, n: number): string {
  const m = html.match(new RegExp(`<tr id="L${n}"[^>]*>.*?</tr>`));
  if (!m) throw new Error(`no row L${n}`);
  return m[0];
}

let result: TestRunResult;
let pages: Map<string, string>;
beforeAll(async () => {
  result = await testPath(DIR, { seed: 0 });
  pages = renderHtmlReport(result, { readSource });
});

describe("renderHtmlReport", () => {
  test("an index and one page per source file", () => {
    expect([...pages.keys()].sort()).toEqual([COUNTER_PAGE, DRIVER_PAGE, "index.html"]);
  });

  test("the index: summary, module table, findings and unrun unsafe regions with links", () => {
    const index = pages.get("index.html")!;
    expect(index).toContain("<span>4 tests</span>");
    expect(index).toContain("2 passed");
    expect(index).toContain("2 with UB");
    expect(index).toContain("seed 0");
    // A row per module with lines covered/total, %, unsafe regions, times and ratio.
    const driverRow = result.coverage.modules.find((m) => m.module === DRIVER)!;
    // The percentage as the terminal's table rounds it (25/33 is 76%, not 75%).
    expect(index).toContain(`<td class="num">${coveragePercent(driverRow.lines)}%</td>`);
    expect(index).toMatch(
      new RegExp(`<tr><td class="mono"><a href="${DRIVER_PAGE}">${DRIVER}</a></td><td class="num">4</td><td class="num">${driverRow.lines.covered}/${driverRow.lines.total}</td><td class="num">\\d+%</td><td class="num">3/4</td><td class="num">[\\d.]+ ms</td><td class="num">[\\d.]+ ms</td><td class="num">[\\d.]+×</td></tr>`),
    );
    expect(index).toContain(`<tr class="total"><td class="mono">total</td>`);
    // Each finding links to its anchor on its file's page.
    expect(index).toMatch(/<code>data-race<\/code> <a href="files\/test_fixtures_html-report_counter\.ts\.html#ub-\d+">test\/fixtures\/html-report\/counter\.ts:14:15<\/a>/);
    expect(index).toMatch(/<code>use-after-free<\/code> <a href="files\/test_fixtures_html-report_driver\.ts\.html#ub-\d+">/);
    expect(index).toContain(`<a href="${DRIVER_PAGE}#L16">${DRIVER}:16-22</a> (unsafe block)`);
  });

  test("a source page: numbered, anchored lines with coverage and unsafe markers", () => {
    const page = pages.get(DRIVER_PAGE)!;
    expect(row(page, 9)).toContain(`class="covered"`);
    expect(row(page, 9)).toMatch(/<td class="hits" title="run \(\d+×\)">✓ \d+<\/td>/);
    expect(row(page, 10)).toContain(`class="uncovered"`);
    expect(row(page, 10)).toContain(`<td class="hits" title="never run">✗ 0</td>`);
    expect(row(page, 1)).toContain(`class="not-coverable"`);
    expect(row(page, 1)).toContain(`<a href="#L1">1</a>`);
    // The unsafe block no test runs: marked on each of its lines, tagged with its kind on its first.
    expect(row(page, 16)).toContain(`in-unsafe unrun`);
    expect(row(page, 16)).toContain(`unsafe block — never run (lines 16–22)`);
    expect(row(page, 18)).toContain(`title="unsafe block — never run">┆ unsafe</td>`);
    expect(row(page, 33)).toContain(`unsafe block (lines 33–38)`);
    // Each function's calls on its first line, and how many were called in the summary.
    expect(row(page, 8)).toContain(`<span class="fn-tag">checked_sum: 1 call</span>`);
    const fns = result.coverage.functions!.filter((f) => f.file === DRIVER);
    expect(page).toContain(`functions called: ${fns.filter((f) => f.hits > 0).length}/${fns.length}`);
  });

  test("the use after free under its line, with its help lines and backtrace", () => {
    const page = pages.get(DRIVER_PAGE)!;
    const uaf = result.ub.find((r) => r.kind === "use-after-free")!;
    const after = page.slice(page.indexOf(`<tr id="L${uaf.location.line}"`));
    const block = after.slice(0, after.indexOf(`<tr id="L${uaf.location.line + 1}"`));
    expect(block).toContain("error: Undefined Behavior: memory access failed: alloc1 has been freed, so this pointer is dangling");
    expect(block).toContain(`<div class="label">Undefined Behavior occurred here</div>`);
    expect(block).toContain(`<li class="help">alloc1 was allocated here: <a class="mono" href="test_fixtures_html-report_driver.ts.html#L54">`);
    expect(block).toContain(`<li class="help">alloc1 was deallocated here:`);
    expect(block).toContain(`<ol class="backtrace" start="0"><li><span class="fn">{closure}</span>`);
  });

  test("a data race: both accesses side by side, each with its thread and backtrace", () => {
    const page = pages.get(COUNTER_PAGE)!;
    const race = page.slice(page.indexOf(`<div class="race"`));
    expect(race).toMatch(/^<div class="race"[^>]*><section class="access access-earlier"><h4>\(1\) atomic store on thread <code class="thread">cpu1<\/code><\/h4>/);
    expect(race).toContain(`<section class="access access-current"><h4>(2) non-atomic read on thread <code class="thread">cpu2</code></h4>`);
    expect(race).toContain(`<span class="fn">bump_atomic</span>`);
    expect(race).toContain(`<span class="fn">on_tick</span>`);
    // A frame in the other file links to that file's page.
    expect(race).toContain(`href="test_fixtures_html-report_driver.ts.html#L44"`);
  });

  test("the program's text is escaped, and nothing runs or loads", () => {
    const page = pages.get(DRIVER_PAGE)!;
    expect(page).toContain(`&lt;/pre&gt;&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;`);
    expect(page).toContain(`if (a &lt; b &amp;&amp; b &gt; 0)`);
    for (const [name, html] of pages) {
      expect(html, name).not.toMatch(/<script/i);
      expect(html, name).not.toMatch(/<(link|img|iframe|object|embed)\b/i);
      expect(html, name).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
      expect(html, name).not.toMatch(/url\(|@import/i);
      expect(html, name).toMatch(/^<!DOCTYPE html>/);
    }
    expect(escapeHtml(`</pre><script>'x'`)).toBe("&lt;/pre&gt;&lt;script&gt;&#39;x&#39;");
  });

  test("with --coverage-by dir the table has a row per directory and the pages stay per file", async () => {
    const byDir = await testPath(DIR, { seed: 0, coverageBy: "dir" });
    const dirPages = renderHtmlReport(byDir, { readSource, title: "by dir" });
    expect([...dirPages.keys()].sort()).toEqual([COUNTER_PAGE, DRIVER_PAGE, "index.html"]);
    const index = dirPages.get("index.html")!;
    expect(index).toContain(`<title>by dir</title>`);
    expect(index).toContain(`<tr><td class="mono">${DIR}</td><td class="num">4</td>`);
    expect(dirPages.get(DRIVER_PAGE)).toContain(`unsafe block — never run (lines 16–22)`);
  });

  test("with --many-seeds and --shard the summary names the seeds and the shard, the tests their failing seeds", async () => {
    const many = await testPath(DIR, { manySeeds: { from: 0, to: 3, workers: 0 }, shard: { index: 2, count: 2 } });
    expect(many.seedRange).toEqual({ from: 0, to: 3 });
    const index = renderHtmlReport(many, { readSource }).get("index.html")!;
    expect(index).toContain("<span>seeds 0..3</span>");
    expect(index).toContain(`<span>shard 2/2: ${many.tests.length} of 4 tests</span>`);
    expect(index).toContain("<th>failing seeds</th>");
    // The second half of the tests: the race and the use after free, each failing with every seed.
    for (const t of many.tests) {
      expect(t.failingSeeds).toEqual([0, 1, 2]);
      expect(index).toContain(`<td class="mono">${escapeHtml(`${t.module}::${t.name}`)}</td><td class="status-ub">UB</td><td class="mono">0, 1, 2</td>`);
    }
  });
});

describe("kmiri test --html DIR", () => {
  let tmp: string;
  beforeAll(() => void (tmp = mkdtempSync(path.join(tmpdir(), "kmiri-html-"))));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("writes the report and keeps the run's exit status", async () => {
    const out = path.join(tmp, "report");
    const { code } = await kmiri(["test", DIR, "--html", out]);
    expect(code).toBe(1);
    expect(readdirSync(out).sort()).toEqual(["files", "index.html"]);
    expect(readdirSync(path.join(out, "files")).sort()).toEqual([path.basename(COUNTER_PAGE), path.basename(DRIVER_PAGE)]);
    expect(readFileSync(path.join(out, "index.html"), "utf8")).toContain("Coverage by module");
  });

  test("a report that cannot be written is an error, exit status 2", async () => {
    const file = path.join(tmp, "a-file");
    writeFileSync(file, "");
    const { code, err } = await kmiri(["test", DIR, "--html", path.join(file, "report")]);
    expect(code).toBe(2);
    expect(err).toContain("error: could not write the HTML report to");
  });

  test("is an option of kmiri test only", async () => {
    const { code, err } = await kmiri(["run", "examples/hello.ts", "--html", tmp]);
    expect(code).toBe(2);
    expect(err).toContain("`--html` is only for `kmiri test`");
  });
});
