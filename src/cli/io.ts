/**
 * Everything the CLI touches outside itself, in one object, so that tests can run the whole
 * command in-process with captured output and a fake engine.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadEngine, type Engine } from "./engine.js";

/** The CLI's view of the process. */
export interface CliIO {
  /** Writes to standard output (text is written as given: add the newline). */
  stdout(text: string): void;
  /** Writes to standard error. */
  stderr(text: string): void;
  /** Whether standard output / standard error are terminals (for colour). */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** The terminal's width when standard error is one (for the progress line; 80 if unknown). */
  stderrColumns?: number;
  /** The environment (`NO_COLOR`, `KMIRI_DEBUG`, `KMIRIFLAGS`, `TERM`). */
  env: Record<string, string | undefined>;
  /** The working directory: source paths in reports are relative to it. */
  cwd: string;
  /** Loads the engine (the real one is `src/driver/run.ts`). */
  engine(): Promise<Engine>;
  /** Reads a text file, `undefined` when it cannot be read (paths relative to `cwd`). */
  readFile(path: string): string | undefined;
  /** Writes a text file (paths relative to `cwd`); throws on failure. */
  writeFile(path: string, text: string): void;
}

/**
 * The real process: `process.stdout`, `process.stderr`, `process.env`, the file system and the
 * engine in `src/driver/run.ts`.
 */
export function nodeIO(): CliIO {
  const cwd = process.cwd();
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdoutIsTTY: Boolean(process.stdout.isTTY),
    stderrIsTTY: Boolean(process.stderr.isTTY),
    stderrColumns: process.stderr.columns,
    env: process.env,
    cwd,
    engine: loadEngine,
    readFile: (path) => {
      try {
        return readFileSync(resolve(cwd, path), "utf8");
      } catch {
        return undefined;
      }
    },
    writeFile: (path, text) => writeFileSync(resolve(cwd, path), text),
  };
}

/**
 * A source reader for snippets that reads each file once.
 * @param io - where files are read from.
 */
export function cachedSources(io: Pick<CliIO, "readFile">): (file: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (file) => {
    if (!cache.has(file)) cache.set(file, io.readFile(file));
    return cache.get(file);
  };
}
