/**
 * The `kmiri` command. {@link main} runs one command line against a {@link CliIO} and returns the
 * exit status; {@link runCli} is what `bin/kmiri.js` calls. Exit status: 0 clean, 1 UB / a panic /
 * a failed test, 2 the program could not be loaded, the arguments are wrong, or kmiri failed.
 */
import { parseArgs, UsageError } from "./args.js";
import { SHORT_USAGE, helpText } from "./usage.js";
import { packageVersion } from "../driver/version.js";
import { nodeIO, type CliIO } from "./io.js";
import { cachedSources } from "./io.js";
import { asLoadError } from "./engine.js";
import { runCommand } from "./run-command.js";
import { testCommand } from "./test-command.js";
import { corpusCommand } from "./corpus-command.js";
import { renderLoadError } from "../driver/render/render.js";
import { palette, shouldColor } from "../driver/render/render-style.js";
import { errorToJson, type JsonError } from "../driver/render/json.js";

/**
 * Runs one `kmiri` command line.
 * @param argv - the arguments after `kmiri`.
 * @param io - the process (defaults to the real one); tests pass captured streams and a fake engine.
 * @returns the exit status.
 * @example
 * process.exitCode = await main(["run", "examples/hello.ts"]);
 */
export async function main(argv: readonly string[], io: CliIO = nodeIO()): Promise<number> {
  argv = withEnvFlags(argv, io.env.KMIRIFLAGS);
  // Decided before parsing, so that even a usage error keeps stdout one JSON object.
  const json = argv.includes("--json");
  const color = shouldColor(io.stderrIsTTY, io.env);
  const p = palette(color);
  let seed = 0;
  const failJson = (error: JsonError) => {
    if (json) io.stdout(`${JSON.stringify(errorToJson(error, seed))}\n`);
  };
  try {
    const command = parseArgs(argv);
    switch (command.command) {
      case "help":
        io.stdout(`${helpText(packageVersion())}\n`);
        return 0;
      case "version":
        io.stdout(`kmiri ${packageVersion()}\n`);
        return 0;
      case "run":
        seed = command.flags.seed ?? command.flags.manySeeds?.from ?? 0;
        return await runCommand(command.file, command.flags, io);
      case "test":
        seed = command.flags.seed ?? command.flags.manySeeds?.from ?? 0;
        return await testCommand(command.path, command.flags, io);
      case "corpus":
        seed = command.flags.seed ?? 0;
        return await corpusCommand(command.dir, command.flags, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${p.error("error")}: ${error.message}\n\n${SHORT_USAGE}\n`);
      failJson({ kind: "usage", message: error.message });
      return 2;
    }
    const load = asLoadError(error);
    if (load) {
      io.stderr(`${renderLoadError(load, { color, readSource: cachedSources(io) })}\n`);
      failJson({
        kind: "load",
        message: load.message,
        reason: load.reason,
        ...(load.location ? { location: load.location } : {}),
        ...(load.diagnostics ? { diagnostics: load.diagnostics.map((d) => ({ ...d })) } : {}),
      });
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`${p.error("error")}: internal error in kmiri: ${message}\n\n${internalErrorNotes(error, io.env, p.note)}\n`);
    failJson({ kind: "internal", message });
    return 2;
  }
}

/** What to do after an internal error; the stack trace only with `KMIRI_DEBUG=1`. */
function internalErrorNotes(error: unknown, env: CliIO["env"], note: (t: string) => string): string {
  const lines = [
    `${note("note")}: this is a bug in kmiri, not in the program it ran`,
    `${note("note")}: please report it, with the program and the command line that triggered it`,
  ];
  if (env.KMIRI_DEBUG === "1" && error instanceof Error && error.stack) {
    lines.push(`${note("note")}: kmiri's stack trace:`, error.stack);
  } else {
    lines.push(`${note("note")}: run with \`KMIRI_DEBUG=1\` to see kmiri's stack trace`);
  }
  return lines.join("\n");
}

/** Waits until everything written to a stream has been handed to the OS. */
function drain(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((done) => {
    if (!stream.writable) return done();
    stream.write("", () => done());
  });
}

/**
 * The process entry point of `bin/kmiri.js`: runs the command line of this process and exits with
 * its status once stdout and stderr are flushed (a program that left timers or threads behind does
 * not keep kmiri alive).
 * @param argv - the arguments after `kmiri` (default: this process's).
 */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  // `kmiri ... | head`: a closed pipe ends kmiri quietly rather than with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const code = await main(argv, nodeIO());
  await drain(process.stdout);
  await drain(process.stderr);
  process.exit(code);
}

/**
 * `KMIRIFLAGS`, read as cargo miri reads `MIRIFLAGS`: flags split at whitespace, put right after
 * the command, before the command line's own arguments — so that the command line wins where an
 * option is given twice (a value set later replaces the earlier one).
 */
export function withEnvFlags(argv: readonly string[], flags: string | undefined): readonly string[] {
  const extra = (flags ?? "").split(/\s+/).filter((f) => f !== "");
  if (extra.length === 0 || argv.length === 0 || !["run", "test", "corpus"].includes(argv[0]!)) return argv;
  return [argv[0]!, ...extra, ...argv.slice(1)];
}
