/**
 * Renders diagnostics as Miri (rustc) prints them, as plain text or with colour:
 *
 * ```text
 * error: Undefined Behavior: memory access failed: alloc12 has been freed, so this pointer is dangling
 *   --> examples/use-after-free.ts:9:15
 *    |
 *  9 |     const v = p.read();
 *    |               ^^^^^^^^ Undefined Behavior occurred here
 *    |
 *    = help: this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior
 * help: alloc12 was allocated here:
 *   --> examples/use-after-free.ts:5:13
 *    |
 *  5 |   const p = alloc(u32);
 *    |             ^^^^^^^^^^
 *    = note: this is on thread `main`
 *    = note: stack backtrace:
 *            0: main
 *                at examples/use-after-free.ts:9:15
 * ```
 *
 * Rules, so that every caller gets the same shape:
 * - **Headline.** `error: <title>: <message>`, except for the classes Miri prints without a prefix:
 *   title `deadlock` (or an empty title) prints `error: <message>` (the engine's message is
 *   `the evaluated program deadlocked`), and title `memory leak` prints
 *   `error: memory leaked: <message>` (no second prefix when the message already starts with
 *   `memory leaked`).
 * - **Label.** The report's `label` (an empty string means none); by default `<title> occurred
 *   here`, `thread got stuck here` for a deadlock, none for a leak.
 * - **Gutter.** The width of the largest line number shown in the report, at least 2 (the width of
 *   Miri's normalised `LL`), so `-->` is indented by that width and `|` by one more.
 * - **Caret.** From `column` to `endColumn` (exclusive) when the span ends on its first line, else to
 *   the end of that line; always at least one `^`. Tabs count as four columns.
 * - **Help and notes.** A help line without a location is `= help: ...`; with one it is
 *   `help: ...` followed by its own `-->` and snippet (the message is printed as given: Miri's
 *   messages carry their own trailing colon). After them: the report's `notes`, then
 *   `this is on thread \`T\`` (unless a note already says so), then the backtrace, all as
 *   `= note:`. A `|` line separates the primary snippet from the `=` lines that follow it.
 * - **Missing source.** When `readSource` cannot give the line, the snippet is left out and the
 *   `-->` line stays.
 *
 * Every function returns text without a trailing newline.
 */
import type { Frame, SourceLocation, UBReport } from "../../interp/report.js";
import type { PanicInfo, RunResult } from "../results.js";
import { palette, type Paint, type Palette } from "./render-style.js";

/** How to render. */
export interface RenderOptions {
  /** Emit ANSI colour codes (decided by the caller: a terminal, and `NO_COLOR` unset). */
  color?: boolean;
  /**
   * Returns the text of a source file, given its path as it appears in a location (relative to the
   * working directory), or `undefined` when it cannot be read; snippets of such files are left out.
   * Without it no snippets are drawn.
   */
  readSource?: (file: string) => string | undefined;
}

/** A loading failure as the renderer needs it (the shape of the loader's `LoadError`). */
export interface LoadErrorLike {
  message: string;
  location?: SourceLocation;
}

/** Titles whose headline is printed without the `<title>: ` prefix (see the module comment). */
const UNPREFIXED_TITLES = new Set(["", "deadlock", "memory leak"]);

/** Number of columns a tab takes in a snippet, as in rustc. */
const TAB_WIDTH = 4;

/** The smallest gutter: the width of Miri's normalised `LL`. */
const MIN_GUTTER = 2;

/**
 * The text after `error: ` of a report's first line.
 * @param report - the finding.
 * @returns e.g. `Undefined Behavior: memory access failed: ...` or `the evaluated program deadlocked`.
 */
export function headline(report: Pick<UBReport, "title" | "message">): string {
  const title = report.title ?? "";
  if (title === "memory leak") {
    return report.message.startsWith("memory leaked") ? report.message : `memory leaked: ${report.message}`;
  }
  if (UNPREFIXED_TITLES.has(title)) return report.message || "the evaluated program deadlocked";
  return `${title}: ${report.message}`;
}

/**
 * The label drawn after the primary caret.
 * @param report - the finding.
 * @returns the label, or `""` for none.
 */
export function primaryLabel(report: Pick<UBReport, "title" | "label">): string {
  if (report.label !== undefined) return report.label;
  switch (report.title) {
    case "deadlock": return "thread got stuck here";
    case "memory leak":
    case "":
      return "";
    default: return `${report.title} occurred here`;
  }
}

/** Reads source lines once per file for one rendering. */
class Sources {
  private readonly files = new Map<string, string[] | undefined>();
  constructor(private readonly read: RenderOptions["readSource"]) {}

  /** The 1-based line `line` of `file`, without its line break, or undefined. */
  line(file: string, line: number): string | undefined {
    if (!this.read) return undefined;
    let lines = this.files.get(file);
    if (!this.files.has(file)) {
      let text: string | undefined;
      try {
        text = this.read(file);
      } catch {
        text = undefined;
      }
      lines = text === undefined ? undefined : text.split(/\r?\n/);
      this.files.set(file, lines);
    }
    if (!lines || line < 1 || line > lines.length) return undefined;
    return lines[line - 1];
  }
}

/** The parts every block of one rendering shares. */
interface Ctx {
  p: Palette;
  sources: Sources;
  /** Width of the line-number column. */
  width: number;
}

function makeCtx(options: RenderOptions, locations: (SourceLocation | undefined)[]): Ctx {
  const sources = new Sources(options.readSource);
  let width = MIN_GUTTER;
  for (const loc of locations) {
    if (loc && sources.line(loc.file, loc.line) !== undefined) width = Math.max(width, String(loc.line).length);
  }
  return { p: palette(options.color), sources, width };
}

/** `file:line:column`. */
export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** Expands tabs; returns the display text and a map from 0-based source index to display column. */
function expandTabs(text: string): { shown: string; col: (index: number) => number } {
  const starts: number[] = [];
  let shown = "";
  for (const ch of text) {
    for (let k = 0; k < ch.length; k++) starts.push(shown.length);
    shown += ch === "\t" ? " ".repeat(TAB_WIDTH) : ch;
  }
  starts.push(shown.length);
  return { shown, col: (i) => (i <= 0 ? 0 : i < starts.length ? starts[i]! : shown.length) };
}

/**
 * The `-->` line and, when the source line can be read, the snippet with its caret line.
 * @returns the lines, and whether a snippet was drawn.
 */
function span(ctx: Ctx, loc: SourceLocation, caretStyle: Paint, label: string): { lines: string[]; snippet: boolean } {
  const { p, width } = ctx;
  const pad = " ".repeat(width);
  const lines = [`${pad}${p.gutter("-->")} ${formatLocation(loc)}`];
  const source = ctx.sources.line(loc.file, loc.line);
  if (source === undefined) return { lines, snippet: false };
  const { shown, col } = expandTabs(source.replace(/\s+$/, ""));
  const start = Math.min(col(loc.column - 1), shown.length);
  let end: number;
  if (loc.endColumn !== undefined && (loc.endLine === undefined || loc.endLine === loc.line)) {
    end = col(loc.endColumn - 1);
  } else if (loc.endLine !== undefined && loc.endLine > loc.line) {
    end = shown.length;
  } else {
    end = start + 1;
  }
  const carets = "^".repeat(Math.max(1, Math.min(end, shown.length) - start));
  const bar = p.gutter("|");
  lines.push(
    `${pad} ${bar}`,
    `${p.gutter(String(loc.line).padStart(width))} ${bar}${shown ? ` ${shown}` : ""}`,
    `${pad} ${bar} ${" ".repeat(start)}${caretStyle(label ? `${carets} ${label}` : carets)}`,
  );
  return { lines, snippet: true };
}

/** `= level: text`, continuation lines aligned under the text. */
function equalsLine(ctx: Ctx, level: "help" | "note", text: string): string[] {
  const style = level === "help" ? ctx.p.help : ctx.p.note;
  const lead = `${" ".repeat(ctx.width + 1)}= ${level}: `;
  const indent = " ".repeat(lead.length);
  return text.split("\n").map((t, i) => (i === 0 ? `${" ".repeat(ctx.width + 1)}${ctx.p.gutter("=")} ${style(level)}: ${t}` : indent + t));
}

/** The lines of a backtrace under `= note: stack backtrace:`. */
function backtraceLines(ctx: Ctx, frames: Frame[]): string[] {
  const indent = " ".repeat(ctx.width + 1 + "= note: ".length);
  const w = String(frames.length - 1).length;
  const out: string[] = [];
  frames.forEach((f, i) => {
    out.push(`${indent}${String(i).padStart(w)}: ${f.fn}`);
    out.push(`${indent}${" ".repeat(w + 3)}at ${formatLocation(f.location)}`);
  });
  return out;
}

/**
 * Renders one finding as Miri does (see the module comment for the rules).
 * @param report - the finding.
 * @param options - colour and the source reader for snippets.
 * @returns the text, without a trailing newline.
 * @example
 * renderReport(result.ub[0], { readSource: (f) => readFileSync(f, "utf8") })
 */
export function renderReport(report: UBReport, options: RenderOptions = {}): string {
  const help = report.help ?? [];
  const ctx = makeCtx(options, [report.location, ...help.map((h) => h.location)]);
  const { p } = ctx;
  // Miri's non-halting diagnostics are printed as `warning: <message>` or `note: <message>`
  // (the notes of `--track-tag`).
  const isWarning = report.title === "warning";
  const isNote = report.title === "note";
  const out: string[] = [
    isWarning
      ? `${p.warning("warning")}${p.strong(`: ${report.message}`)}`
      : isNote
        ? `${p.note("note")}${p.strong(`: ${report.message}`)}`
        : /^error\[E\d+\]$/.test(report.title ?? "")
          ? // rustc's own errors read `error[E0308]: mismatched types: ...`, not `error: error[E0308]: ...`
            `${p.error(report.title!)}${p.strong(`: ${report.message}`)}`
          : `${p.error("error")}${p.strong(`: ${headline(report)}`)}`,
  ];

  const primary = span(ctx, report.location, isWarning ? p.warning : isNote ? p.note : p.error, primaryLabel(report));
  out.push(...primary.lines);
  let afterPrimary = primary.snippet;
  const spanless = (lines: string[]) => {
    if (afterPrimary) out.push(`${" ".repeat(ctx.width + 1)}${p.gutter("|")}`);
    afterPrimary = false;
    out.push(...lines);
  };

  for (const h of help) {
    if (h.location) {
      afterPrimary = false;
      out.push(`${p.help("help")}: ${h.message}`);
      out.push(...span(ctx, h.location, p.help, "").lines);
    } else {
      spanless(equalsLine(ctx, "help", h.message));
    }
  }
  const notes = report.notes ?? [];
  for (const n of notes) spanless(equalsLine(ctx, "note", n));
  if (report.thread && !notes.some((n) => n.startsWith("this is on thread"))) {
    spanless(equalsLine(ctx, "note", `this is on thread \`${report.thread}\``));
  }
  if (report.backtrace && report.backtrace.length > 0) {
    spanless([...equalsLine(ctx, "note", "stack backtrace:"), ...backtraceLines(ctx, report.backtrace)]);
  }
  return out.join("\n");
}

/**
 * The last line of a failed run: `error: aborting due to 1 previous error` (or `N previous errors`).
 * @param count - number of errors reported.
 * @param options - colour.
 */
export function renderAborting(count: number, options: RenderOptions = {}): string {
  const p = palette(options.color);
  return `${p.error("error")}${p.strong(`: aborting due to ${count === 1 ? "1 previous error" : `${count} previous errors`}`)}`;
}

/**
 * Renders a panic as Rust does, with the thread's backtrace in Rust's panic format:
 *
 * ```text
 * thread 'main' panicked at examples/x.ts:3:5:
 * index out of bounds
 * stack backtrace:
 *    0: main
 *              at examples/x.ts:3:5
 * ```
 * @param panic - the panic.
 * @param _options - accepted for symmetry; Rust prints panics without colour.
 */
export function renderPanic(panic: PanicInfo, _options: RenderOptions = {}): string {
  const where = panic.location ? ` at ${formatLocation(panic.location)}:` : ":";
  const out = [`thread '${panic.thread}' panicked${where}`, panic.message];
  if (panic.backtrace && panic.backtrace.length > 0) {
    out.push("stack backtrace:");
    panic.backtrace.forEach((f, i) => {
      out.push(`${String(i).padStart(4)}: ${f.fn}`);
      out.push(`${" ".repeat(13)}at ${formatLocation(f.location)}`);
    });
  }
  return out.join("\n");
}

/**
 * Renders a program that could not be loaded: `error: <message>`, its location and snippet.
 * @param error - the loader's error (message and optional location).
 * @param options - colour and the source reader.
 */
export function renderLoadError(error: LoadErrorLike, options: RenderOptions = {}): string {
  const ctx = makeCtx(options, [error.location]);
  const out = [`${ctx.p.error("error")}${ctx.p.strong(`: ${error.message}`)}`];
  if (error.location) out.push(...span(ctx, error.location, ctx.p.error, "").lines);
  return out.join("\n");
}

/**
 * Everything `kmiri run` prints on stderr after the program: the warnings, the panics of spawned threads (as
 * Rust prints them, in order), each finding, `main`'s panic if any, and the `aborting` line when
 * there were findings; `""` for a clean run.
 * @param result - the run.
 * @param options - colour and the source reader.
 */
export function renderRunResult(result: Pick<RunResult, "ub" | "panic" | "threadPanics" | "warnings">, options: RenderOptions = {}): string {
  const parts = (result.warnings ?? []).map((w) => renderReport(w, options));
  parts.push(...(result.threadPanics ?? []).map((p) => renderPanic(p, options)));
  parts.push(...result.ub.map((r) => renderReport(r, options)));
  if (result.panic) parts.push(renderPanic(result.panic, options));
  if (result.ub.length > 0) parts.push(renderAborting(result.ub.length, options));
  return parts.join("\n\n");
}
