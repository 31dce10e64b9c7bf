/**
 * The habits people bring from Miri, cargo and vitest: `-t` for `--filter`, suggestions for a
 * mistyped option, `--no-race-check` (`-Zmiri-disable-data-race-detector`), and flags from
 * `KMIRIFLAGS` (cargo miri's `MIRIFLAGS`), the command line winning.
 */
import { describe, expect, test } from "vitest";
import { parseArgs, UsageError } from "../../src/cli/args.js";
import { withEnvFlags } from "../../src/cli/main.js";
import { kmiri } from "../support/cli-in-process.js";

const RACE = "test/corpus/fail/races/race-write-write.ts";

describe("-t", () => {
  test("is --filter, repeatable", () => {
    expect(parseArgs(["test", "src", "-t", "frame"])).toMatchObject({ command: "test", flags: { filter: "frame" } });
    expect(parseArgs(["test", "src", "-t", "a", "--filter", "b"])).toMatchObject({ flags: { filter: ["a", "b"] } });
    expect(() => parseArgs(["run", "a.ts", "-t", "x"])).toThrow("option `--filter` is only for `kmiri test`");
  });
});

describe("a mistyped option", () => {
  test.each([
    ["--seeed", "--seed"],
    ["--fliter", "--filter"],
    ["--no-race-checks", "--no-race-check"],
    ["--many-seed", "--many-seeds"],
  ])("%s: did you mean %s?", (typo, meant) => {
    expect(() => parseArgs(["test", "src", typo])).toThrow(UsageError);
    expect(() => parseArgs(["test", "src", typo])).toThrow(`unknown option \`${typo}\`; did you mean \`${meant}\`?`);
  });

  test("nothing near: no suggestion", () => {
    expect(() => parseArgs(["run", "a.ts", "--frobnicate-everything"])).toThrow(/^unknown option `--frobnicate-everything`$/);
  });
});

describe("--no-race-check", () => {
  test("a data race is reported without it and not with it", async () => {
    const on = await kmiri(["run", RACE, "--json"]);
    const off = await kmiri(["run", RACE, "--json", "--no-race-check"]);
    const kinds = (r: { out: string }) => (JSON.parse(r.out) as { ub: { kind: string }[] }).ub.map((u) => u.kind);
    expect(kinds(on)).toContain("data-race");
    expect(kinds(off)).not.toContain("data-race");
  });
});

describe("KMIRIFLAGS", () => {
  test("flags go after the command, before the command line's own", () => {
    expect(withEnvFlags(["run", "a.ts", "--seed", "5"], " --seed 3  --json ")).toEqual(["run", "--seed", "3", "--json", "a.ts", "--seed", "5"]);
    expect(withEnvFlags(["--help"], "--seed 3")).toEqual(["--help"]);
    expect(withEnvFlags(["run", "a.ts"], undefined)).toEqual(["run", "a.ts"]);
  });

  test("read from the environment; the command line wins", async () => {
    const env = await kmiri(["run", "examples/hello.ts", "--json"], false, { KMIRIFLAGS: "--seed 3" });
    expect(JSON.parse(env.out).seed).toBe(3);
    const both = await kmiri(["run", "examples/hello.ts", "--json", "--seed", "5"], false, { KMIRIFLAGS: "--seed 3" });
    expect(JSON.parse(both.out).seed).toBe(5);
  });
});
