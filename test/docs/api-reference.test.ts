/**
 * The API reference (docs/api/rt.md, docs/api/mirch.md) cannot drift from the package: every name
 * `kmiri/rt` and `kmiri/mirch` export — at run time (the built modules' namespace) and in their
 * declarations (types included) — has its entry, and the files are what scripts/api-docs.mjs
 * generates from the built `.d.ts` files (`npm run build && npm run docs:api` after a change).
 */
import { describe, expect, test } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { exportedNames, OUTPUTS, renderReference } from "../../scripts/api-docs.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ENTRIES = ["rt", "mirch"] as const;

/** The names with an entry (`### \`name\``) in a reference. */
function documented(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1]));
}

describe.each(ENTRIES)("docs/api/%s.md", (entry) => {
  const file = join(ROOT, OUTPUTS[entry]);

  test("documents every runtime export of the built module", async () => {
    const mod = await import(pathToFileURL(join(ROOT, "dist", "shims", `${entry}.js`)).href);
    const names = Object.keys(mod);
    expect(names.length).toBeGreaterThan(10);
    const missing = names.filter((n) => !documented(readFileSync(file, "utf8")).has(n));
    expect(missing, `exports of kmiri/${entry} missing from ${OUTPUTS[entry]}: run \`npm run build && npm run docs:api\``).toEqual([]);
  });

  test("documents every name of the declaration file, types included", () => {
    const names: string[] = exportedNames(join(ROOT, "dist", "shims", `${entry}.d.ts`));
    const docs = documented(readFileSync(file, "utf8"));
    expect(names).toEqual(expect.arrayContaining(entry === "rt" ? ["Layout", "Ptr", "Ordering", "ktest"] : ["DeviceModel", "PteFlags", "activate_page_table"]));
    expect(names.filter((n) => !docs.has(n))).toEqual([]);
    // … and nothing that is no longer exported.
    expect([...docs].filter((n) => !names.includes(n))).toEqual([]);
  });

  test("is what scripts/api-docs.mjs generates from the built declarations", () => {
    expect(readFileSync(file, "utf8"), `${OUTPUTS[entry]} is out of date: run \`npm run build && npm run docs:api\``).toBe(renderReference(entry));
  });
});

test("the README's and the references' relative links resolve inside the repository", () => {
  for (const doc of ["README.md", "docs/api/README.md", "docs/api/rt.md", "docs/api/mirch.md"]) {
    const text = readFileSync(join(ROOT, doc), "utf8");
    const links = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
    const broken = links.filter((l) => !existsSync(resolve(ROOT, dirname(doc), l)));
    expect(broken, `broken links in ${doc}`).toEqual([]);
  }
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  expect(readme).toContain("(docs/api/rt.md)");
  expect(readme).not.toMatch(/design's `api\/(rt|mirch)\.d\.ts`/);
});
