/**
 * The glob matcher of `kmiri test --include/--exclude` (src/driver/glob.ts) and the shard
 * arithmetic of `--shard i/n` (src/driver/test-selection.ts).
 */
import { describe, expect, test } from "vitest";
import { compileGlob, matchesGlob } from "../../src/driver/glob.js";
import { shardBounds, shardOf, shardSeedRange } from "../../src/driver/test-selection.js";

describe("globs", () => {
  test.each([
    // `*` and `?` stay within a segment.
    ["src/*.ts", "src/a.ts", true],
    ["src/*.ts", "src/mm/a.ts", false],
    ["src/?.ts", "src/a.ts", true],
    ["src/?.ts", "src/ab.ts", false],
    // `**` is any number of segments, none included.
    ["src/**/*.ts", "src/a.ts", true],
    ["src/**/*.ts", "src/mm/frame/a.ts", true],
    ["src/**/*.ts", "test/a.ts", false],
    ["**/*.ts", "a.ts", true],
    ["**", "a/b/c.js", true],
    ["src/**", "src/a/b.ts", true],
    // Braces, nested too.
    ["**/*.{test,spec}.ts", "src/mm/frame.test.ts", true],
    ["**/*.{test,spec}.ts", "src/mm/frame.spec.ts", true],
    ["**/*.{test,spec}.ts", "src/mm/frame.ts", false],
    ["{src,test/{a,b}}/x.ts", "test/b/x.ts", true],
    ["{src,test/{a,b}}/x.ts", "test/c/x.ts", false],
    ["*.{,m}js", "a.mjs", true],
    // Classes and escapes.
    ["f[0-9].ts", "f7.ts", true],
    ["f[!0-9].ts", "f7.ts", false],
    ["f[!0-9].ts", "fx.ts", true],
    ["a\\*.ts", "a*.ts", true],
    ["a\\*.ts", "ab.ts", false],
    // Regular-expression characters are literal.
    ["a+b(1).ts", "a+b(1).ts", true],
    ["a.ts", "axts", false],
    // A pattern without `/` matches a name anywhere; a directory matches what is under it.
    ["*.js", "src/deep/a.js", true],
    ["*.js", "src/a.js.map", false],
    ["legacy", "src/legacy/old.ts", true],
    ["legacy", "src/legacy-2/old.ts", false],
    ["src/legacy", "src/legacy/old.ts", true],
    ["src/legacy", "test/src/legacy/old.ts", false],
    ["src/legacy/", "src/legacy/old.ts", true],
    ["./src/*.ts", "src/a.ts", true],
    ["src/*.ts", "./src/a.ts", true],
  ])("%s ~ %s: %s", (pattern, p, expected) => {
    expect(matchesGlob(p, pattern)).toBe(expected);
  });

  test("malformed patterns", () => {
    expect(() => compileGlob("src/{a,b")).toThrow("unclosed `{` in the glob pattern `src/{a,b`");
    expect(() => compileGlob("")).toThrow("empty glob pattern");
    // An unclosed `[` is a literal bracket.
    expect(matchesGlob("a[b.ts", "a[b.ts")).toBe(true);
  });
});

describe("shards", () => {
  test("contiguous blocks whose sizes differ by at most one, disjoint, covering everything", () => {
    for (let length = 0; length <= 20; length++) {
      for (let count = 1; count <= 7; count++) {
        const items = Array.from({ length }, (_, i) => i);
        const parts = Array.from({ length: count }, (_, i) => shardOf(items, { index: i + 1, count }));
        expect(parts.flat()).toEqual(items);
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  test("examples", () => {
    expect(shardBounds(14, { index: 2, count: 3 })).toEqual([4, 9]);
    expect(shardSeedRange(10, 18, { index: 3, count: 3 })).toEqual({ from: 15, to: 18 });
    expect(shardOf(["a", "b"], undefined)).toEqual(["a", "b"]);
  });

  test("an invalid shard is a RangeError", () => {
    expect(() => shardBounds(3, { index: 0, count: 3 })).toThrow("the shard index must be from 1 to 3");
    expect(() => shardBounds(3, { index: 4, count: 3 })).toThrow(RangeError);
    expect(() => shardBounds(3, { index: 1, count: 0 })).toThrow("the count of shards must be 1 or more");
  });
});
