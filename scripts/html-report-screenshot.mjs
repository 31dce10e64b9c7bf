#!/usr/bin/env node
// Regenerates docs/html-report.png, the README's picture of the HTML report: runs the fixture
// test/fixtures/html-report with `kmiri test --html`, opens the page of the file with the data
// race in Debian's chromium (headless, JavaScript off, no network) and screenshots it.
// Usage (after `npm run build`, with chromium installed): node scripts/html-report-screenshot.mjs
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const root = resolve(fileURLToPath(import.meta.url), "../..");
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const out = resolve(root, process.argv[2] ?? "docs/html-report.png");
const work = mkdtempSync(join(tmpdir(), "kmiri-html-shot-"));
const reportDir = join(work, "report");

const run = spawnSync(process.execPath, ["bin/kmiri.js", "test", "test/fixtures/html-report", "--html", reportDir], { cwd: root, encoding: "utf8" });
if (run.status !== 1) throw new Error(`kmiri test exited with ${run.status} (the fixture should find UB):\n${run.stderr}`);

const context = await chromium.launchPersistentContext(join(work, "profile"), {
  executablePath,
  headless: true,
  javaScriptEnabled: false,
  viewport: { width: 1200, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  await context.route(/^(?!file:)/, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(pathToFileURL(join(reportDir, "files", "test_fixtures_html-report_counter.ts.html")).href);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await context.close();
  rmSync(work, { recursive: true, force: true });
}
