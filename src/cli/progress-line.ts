/**
 * The one-line progress display on a terminal (standard error), as cargo and vitest show while a
 * suite runs: redrawn in place with `\r`, cleared before anything else is printed and at the end,
 * so that nothing of it stays in the output or in a log.
 */
import type { CliIO } from "./io.js";

/** A line on standard error that is redrawn in place. Inert unless standard error is a terminal. */
export class ProgressLine {
  private shown = 0;
  private text = "";
  private readonly width: number;

  /**
   * @param io - the process; the line is drawn only when `io.stderrIsTTY`.
   * @param enabled - whether to draw at all (off for `--json`, say).
   */
  constructor(
    private readonly io: CliIO,
    private readonly enabled = true,
  ) {
    // One column short of the terminal, so that the cursor never wraps to a new line.
    this.width = Math.max(20, (io.stderrColumns ?? 80) - 1);
  }

  /** Whether the line is drawn. */
  get active(): boolean {
    return this.enabled && this.io.stderrIsTTY;
  }

  /** Shows `text` (cut to the terminal's width) in place of the previous line. */
  show(text: string): void {
    if (!this.active) return;
    this.text = text.length > this.width ? `${text.slice(0, this.width - 1)}…` : text;
    this.io.stderr(`\r${this.text.padEnd(this.shown)}`);
    this.shown = this.text.length;
  }

  /** Erases the line (the cursor back at its start). */
  clear(): void {
    if (!this.active || this.shown === 0) return;
    this.io.stderr(`\r${" ".repeat(this.shown)}\r`);
    this.shown = 0;
  }

  /** Runs `print` (which writes lines of output) with the line out of the way, then redraws it. */
  around(print: () => void): void {
    const text = this.shown > 0 ? this.text : "";
    this.clear();
    print();
    if (text) this.show(text);
  }
}

/** `12.3s` / `2m05s`: the elapsed time on a progress line. */
export function elapsed(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.floor(s - m * 60)).padStart(2, "0")}s`;
}
