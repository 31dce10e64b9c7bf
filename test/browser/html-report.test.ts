/**
 * The HTML report in a real browser: Debian's chromium (`/usr/bin/chromium`, installed by
 * `.ci/run`), driven by playwright-core, with JavaScript off and every request that is not a
 * `file://` one blocked and recorded. On the report of test/fixtures/html-report it checks what a
 * person sees: the coverage table, the link to a file's page, the data race's two accesses side by
 * side (by their boxes) with both threads and backtraces, the unsafe block no test ran, the use
 * after free at its line with its help lines. Screenshots go to test-results/html-report/.
 * Without chromium the test is skipped, except under CI (`CI` set), where it fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { chromium, type BrowserContext, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const FIXTURE = "test/fixtures/html-report";
const SHOTS = path.resolve("test-results/html-report");
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const TIMEOUT = 120_000;

const present = existsSync(CHROMIUM);
if (!present && process.env.CI) {
  test("chromium is installed", () => {
    throw new Error(`${CHROMIUM} is missing: the HTML report's browser test needs Debian's chromium (.ci/run installs it with apt-get)`);
  });
} else if (!present) {
  console.warn(`skipping the HTML report's browser test: ${CHROMIUM} is missing (apt-get install chromium)`);
}

describe.skipIf(!present)("the HTML report in chromium", () => {
  let tmp: string;
  let context: BrowserContext;
  let page: Page;
  const requests: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), "kmiri-html-browser-"));
    const run = spawnSync(process.execPath, ["bin/kmiri.js", "test", FIXTURE, "--html", path.join(tmp, "report")], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(1);
    mkdirSync(SHOTS, { recursive: true });
    context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      javaScriptEnabled: false,
      viewport: { width: 1200, height: 900 },
      args: ARGS,
    });
    context.on("request", (r) => requests.push(r.url()));
    await context.route(/^(?!file:)/, (route) => route.abort());
    page = await context.newPage();
  }, TIMEOUT);

  afterAll(async () => {
    await context?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, TIMEOUT);

  test("the index shows the summary and the coverage table, and links to the file pages", async () => {
    await page.goto(pathToFileURL(path.join(tmp, "report", "index.html")).href);
    await page.screenshot({ path: path.join(SHOTS, "index.png"), fullPage: true });
    expect(await page.locator("#summary").innerText()).toMatch(/4 tests\s+2 passed\s+0 failed\s+2 with UB\s+seed 0/);
    const row = page.locator("#modules tbody tr", { hasText: `${FIXTURE}/driver.ts` });
    const cells = await row.locator("td").allInnerTexts();
    expect(cells[0]).toBe(`${FIXTURE}/driver.ts`);
    expect(cells[1]).toBe("4");
    expect(cells[2]).toMatch(/^\d+\/\d+$/);
    expect(cells[4]).toBe("3/4");
    expect(await page.locator("#modules tr.total").innerText()).toMatch(/^total/);
    await expect.poll(() => page.getByText(`${FIXTURE}/driver.ts:16-22`).isVisible()).toBe(true);
  }, TIMEOUT);

  test("the race shows both accesses side by side, with threads and backtraces", async () => {
    await page.goto(pathToFileURL(path.join(tmp, "report", "index.html")).href);
    await page.locator("#modules").getByRole("link", { name: `${FIXTURE}/counter.ts` }).click();
    await page.waitForURL(/counter\.ts\.html$/);
    expect(await page.locator("h1").innerText()).toBe(`${FIXTURE}/counter.ts`);
    const earlier = page.locator(".race section.access-earlier");
    const current = page.locator(".race section.access-current");
    expect(await earlier.isVisible()).toBe(true);
    expect(await current.isVisible()).toBe(true);
    const e = await earlier.innerText();
    const c = await current.innerText();
    expect(e).toContain("(1) atomic store on thread cpu1");
    expect(e).toMatch(/bump_atomic at test\/fixtures\/html-report\/counter\.ts:7:3/);
    expect(c).toContain("(2) non-atomic read on thread cpu2");
    expect(c).toMatch(/bump_plain at .*counter\.ts:14:15/);
    expect(c).toMatch(/on_tick at .*counter\.ts:20:5/);
    // Side by side: same row, the earlier access left of the current one, not overlapping.
    const a = (await earlier.boundingBox())!;
    const b = (await current.boundingBox())!;
    expect(Math.abs(a.y - b.y)).toBeLessThan(2);
    expect(a.x + a.width).toBeLessThanOrEqual(b.x);
    expect(a.width).toBeGreaterThan(300);
    // The race is shown under its line, 14.
    const under = page.locator("#L14 + tr.finding");
    expect(await under.innerText()).toContain("Data race detected between (1) atomic store on thread `cpu1` and (2) non-atomic read on thread `cpu2`");
    await page.screenshot({ path: path.join(SHOTS, "race.png"), fullPage: true });
  }, TIMEOUT);

  test("the unrun unsafe block is marked, and the use after free shown at its line", async () => {
    await page.goto(pathToFileURL(path.join(tmp, "report", "index.html")).href);
    await page.getByRole("link", { name: `${FIXTURE}/driver.ts:16-22` }).click();
    await page.waitForURL(/driver\.ts\.html#L16$/);
    expect(await page.locator("#L16").innerText()).toContain("unsafe block — never run (lines 16–22)");
    expect(await page.locator("#L18 td.hits").innerText()).toBe("✗ 0");
    expect(await page.locator("#L18 td.mark").innerText()).toBe("┆ unsafe");
    expect(await page.locator("#L18 td.mark").getAttribute("title")).toBe("unsafe block — never run");
    // The hostile comment line is text.
    expect(await page.locator("#L3 td.code").innerText()).toContain(`</pre><script>alert("owned")</script> & <b>bold</b>`);
    const uaf = page.locator(".ub-use-after-free");
    expect(await uaf.isVisible()).toBe(true);
    const text = await uaf.innerText();
    expect(text).toContain("error: Undefined Behavior: memory access failed: alloc1 has been freed, so this pointer is dangling");
    expect(text).toContain("alloc1 was allocated here: test/fixtures/html-report/driver.ts:54:15");
    expect(text).toContain("alloc1 was deallocated here: test/fixtures/html-report/driver.ts:56:5");
    expect(text).toContain("this indicates a bug in the program");
    // At its line: the row right above the report is line 57.
    const line = await page.locator("tr.finding:has(.ub-use-after-free)").evaluate((tr) => tr.previousElementSibling?.id);
    expect(line).toBe("L57");
    await uaf.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, "driver.png"), fullPage: true });
  }, TIMEOUT);

  test("no request left the file system", () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith("file://"))).toEqual([]);
  });
});
