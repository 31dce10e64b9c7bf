/**
 * Runs the `kmiri` command in this process with the real engine and captured output (no colour,
 * no terminal unless `tty`; writing files is refused unless `written` collects them): what the CLI
 * tests check.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { main } from "../../src/cli/main.js";
import { loadEngine } from "../../src/cli/engine.js";
import type { CliIO } from "../../src/cli/io.js";

/**
 * Runs `kmiri argv…`; its exit status and what it wrote.
 * @param written - when given, the files the command writes (`--lcov`, `--sarif`) land here by path.
 */
export async function kmiri(
  argv: string[],
  tty = false,
  env: Record<string, string> = {},
  written?: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CliIO = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
    env: { NO_COLOR: "1", ...env },
    cwd: process.cwd(),
    engine: loadEngine,
    readFile: (p) => {
      try {
        return readFileSync(path.resolve(p), "utf8");
      } catch {
        return undefined;
      }
    },
    writeFile: (p, text) => {
      if (!written) throw new Error("not in this test");
      written[p] = text;
    },
  };
  const code = await main(argv, io);
  return { code, out, err };
}
