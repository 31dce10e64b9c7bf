/**
 * `kmiri run FILE`: runs one program, streams its output to stdout, and prints the findings on
 * stderr as Miri does (or, with `--json`, one JSON object on stdout); writes SARIF when asked.
 */
import path from "node:path";
import type { RunFlags } from "./args.js";
import { manySeedsCommand } from "./many-seeds-command.js";
import type { CliIO } from "./io.js";
import { cachedSources } from "./io.js";
import { engineOptions } from "./options.js";
import { renderRunResult } from "../driver/render/render.js";
import { shouldColor } from "../driver/render/render-style.js";
import { runResultToJson } from "../driver/render/json.js";
import { toSarif } from "../driver/render/sarif.js";
import type { RunResult, TestRunResult } from "../driver/results.js";
import { packageVersion } from "../driver/version.js";

/**
 * Writes the SARIF log of a run or a test run (`--sarif FILE`), locations relative to the working
 * directory; a failure to write is reported on stderr.
 * @param result - the run.
 * @param file - where to write, relative to the working directory.
 * @param io - the process.
 * @param program - for `kmiri run`, the program as given: where a panic without a location is placed.
 * @returns whether the file was written.
 */
export function writeSarif(result: RunResult | TestRunResult, file: string, io: Pick<CliIO, "cwd" | "writeFile" | "stderr">, program?: string): boolean {
  const where = program === undefined ? undefined : path.relative(io.cwd, path.resolve(io.cwd, program)).split(path.sep).join("/");
  const log = toSarif(result, { toolVersion: packageVersion(), srcRoot: io.cwd, ...(where !== undefined ? { program: where } : {}) });
  try {
    io.writeFile(file, `${JSON.stringify(log, null, 2)}\n`);
    return true;
  } catch (e) {
    io.stderr(`error: could not write the SARIF file \`${file}\`: ${(e as Error).message}\n`);
    return false;
  }
}

/**
 * Runs `kmiri run`.
 * @param file - the program, as given on the command line.
 * @param flags - the parsed flags.
 * @param io - the process.
 * @returns the exit status: 0 clean, 1 UB or a panic, 2 the SARIF file could not be written.
 * @throws the engine's `LoadError` when the program cannot be loaded (the caller reports it).
 */
export async function runCommand(file: string, flags: RunFlags, io: CliIO): Promise<number> {
  if (flags.manySeeds) return manySeedsCommand(file, flags, io);
  const engine = await io.engine();
  const options = engineOptions(flags, io);
  let streamed = 0;
  if (!flags.json) {
    options.onOutput = (line) => {
      streamed++;
      io.stdout(`${line}\n`);
    };
  }
  const result = await engine.runFile(file, options);
  const json = runResultToJson(result);
  // Written after the report is printed, so that a failure to write it comes last.
  const sarif = () => (flags.sarif === undefined || writeSarif(result, flags.sarif, io, file) ? json.exitCode : 2);
  if (flags.json) {
    io.stdout(`${JSON.stringify(json)}\n`);
    return sarif();
  }
  // An engine that collected the output without streaming it still gets it printed.
  if (streamed === 0) for (const line of result.output ?? []) io.stdout(`${line}\n`);
  const text = renderRunResult(result, {
    color: shouldColor(io.stderrIsTTY, io.env),
    readSource: cachedSources(io),
  });
  if (text) io.stderr(`${text}\n`);
  return sarif();
}
