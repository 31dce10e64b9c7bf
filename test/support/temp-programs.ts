/**
 * Temporary program directories for tests: `tempProgram(files, prefix)` writes the files into a
 * fresh directory (with a cache directory of its own, `.cache`); every directory is removed when
 * the test file ends.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll } from "vitest";

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh directory with these files (names may contain folders), and a cache directory of its own. */
export function tempProgram(files: Record<string, string>, prefix = "kmiri-test-"): { dir: string; cacheDir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  roots.push(dir);
  for (const [name, text] of Object.entries(files)) writeFile(dir, name, text);
  return { dir, cacheDir: path.join(dir, ".cache") };
}

/** Writes `text` to `dir/name`, making the folders on the way. */
export function writeFile(dir: string, name: string, text: string): void {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}
