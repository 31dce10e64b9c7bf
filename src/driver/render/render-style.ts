/**
 * The colours of rendered diagnostics, rustc's palette: `error` red, `warning` yellow, `help` cyan, `note` green,
 * the gutter and `-->` blue, all bold. Colour is a per-call decision (the CLI colours a stream only
 * when it is a terminal and `NO_COLOR` is unset), so this module never reads kleur's global
 * auto-detection: with colour off it returns plain text, with colour on it forces kleur on for
 * the duration of one call.
 */
import kleur from "kleur";

/** A function that styles a piece of text (the identity when colour is off). */
export type Paint = (text: string) => string;

/** The styles a renderer uses, by role. */
export interface Palette {
  /** `error` and the primary caret. */
  error: Paint;
  /** `warning`. */
  warning: Paint;
  /** `help` and the carets of a help span. */
  help: Paint;
  /** `note`. */
  note: Paint;
  /** Line numbers, `|`, `-->`. */
  gutter: Paint;
  /** The headline message after `error: `. */
  strong: Paint;
  /** `ok` in a test summary. */
  ok: Paint;
  /** `FAILED` / `UB` in a test summary. */
  bad: Paint;
  /** Dimmed text (zero counts, `-`). */
  dim: Paint;
}

const plain: Paint = (text) => text;

/** Wraps a kleur style so that it colours regardless of kleur's own TTY detection. */
function forced(style: (text: string) => string): Paint {
  return (text) => {
    if (text === "") return text;
    const was = kleur.enabled;
    kleur.enabled = true;
    try {
      return style(text);
    } finally {
      kleur.enabled = was;
    }
  };
}

const COLOURED: Palette = {
  error: forced((t) => kleur.bold().red(t)),
  warning: forced((t) => kleur.bold().yellow(t)),
  help: forced((t) => kleur.bold().cyan(t)),
  note: forced((t) => kleur.bold().green(t)),
  gutter: forced((t) => kleur.bold().blue(t)),
  strong: forced((t) => kleur.bold(t)),
  ok: forced((t) => kleur.green(t)),
  bad: forced((t) => kleur.red(t)),
  dim: forced((t) => kleur.dim(t)),
};

const PLAIN: Palette = {
  error: plain, warning: plain, help: plain, note: plain, gutter: plain,
  strong: plain, ok: plain, bad: plain, dim: plain,
};

/**
 * The palette for one rendering.
 * @param color - true to emit ANSI colour codes, false for plain text.
 * @returns the styles to use.
 */
export function palette(color: boolean | undefined): Palette {
  return color ? COLOURED : PLAIN;
}

/**
 * Whether a stream should be coloured: it is a terminal, `NO_COLOR` is unset or empty
 * (no-color.org) and `TERM` is not `dumb`.
 * @param isTTY - whether the stream is a terminal.
 * @param env - the environment to read (`process.env`).
 * @returns true to colour.
 */
export function shouldColor(isTTY: boolean | undefined, env: Record<string, string | undefined>): boolean {
  if (!isTTY) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return env.TERM !== "dumb";
}
