/**
 * `kmiri test --html DIR`: writes the HTML report of the run (src/driver/render/html/) into DIR,
 * relative to the working directory, reading the sources as the terminal renderer does.
 */
import { resolve } from "node:path";
import type { CliIO } from "./io.js";
import { cachedSources } from "./io.js";
import { writeHtmlReport } from "../driver/render/html/html-report.js";
import type { TestRunResult } from "../driver/results.js";

/**
 * Writes the HTML report; on failure says so on standard error.
 * @param result - the test run.
 * @param dir - the report directory as given on the command line.
 * @param io - the process (working directory, source reader, standard error).
 * @returns false when the report could not be written (the command then exits with status 2).
 */
export function writeHtml(result: TestRunResult, dir: string, io: Pick<CliIO, "cwd" | "readFile" | "stderr">): boolean {
  try {
    writeHtmlReport(result, resolve(io.cwd, dir), { readSource: cachedSources(io) });
    return true;
  } catch (e) {
    io.stderr(`error: could not write the HTML report to \`${dir}\`: ${(e as Error).message}\n`);
    return false;
  }
}
