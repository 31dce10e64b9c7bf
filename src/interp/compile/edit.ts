/**
 * A small text splicer for instrumenting JavaScript in place (in the spirit of magic-string).
 *
 * The compiler never regenerates code from the AST: it inserts text at positions of the original
 * and replaces short ranges (a keyword, an arrow's head). Kept text keeps its characters, so an
 * error raised by V8 at a position of the output can be mapped back to the original position
 * ({@link Splicer.toOriginal}), and from there through the source map to the `.ts`.
 *
 * At one position, text goes in this order: `before` insertions (openings of nodes that start
 * there, outermost first), `after` insertions (closings of nodes that end there, innermost first),
 * the replacement of a range that starts there, and `last` insertions.
 */

interface Insertion {
  pos: number;
  /** The text, or a function giving it at {@link Splicer.toString} time (for text known only later). */
  text: string | (() => string);
  /** Lower ranks are emitted first at the same position. */
  rank: number;
  seq: number;
}

interface Removal {
  start: number;
  end: number;
}

export class Splicer {
  private readonly inserts: Insertion[] = [];
  private readonly removals: Removal[] = [];
  private seq = 0;
  /** Output offset → original offset anchors, filled by {@link toString}. */
  private anchors: { out: number; orig: number }[] = [];

  constructor(readonly original: string) {}

  /** Inserts `text` at `pos`, to the left of anything inserted "after" at the same position. */
  before(pos: number, text: string | (() => string)): void {
    this.inserts.push({ pos, text, rank: 0, seq: this.seq++ });
  }

  /** Inserts `text` at `pos`, to the right of anything inserted "before" there. */
  after(pos: number, text: string): void {
    this.inserts.push({ pos, text, rank: 1, seq: -this.seq++ });
  }

  /** Inserts `text` at `pos`, after everything else inserted there (a block's closing text). */
  last(pos: number, text: string): void {
    this.inserts.push({ pos, text, rank: 2, seq: this.seq++ });
  }

  /**
   * Replaces `[start, end)` with `text`. The range must not contain positions where other text
   * is inserted (the compiler replaces only keywords and punctuation).
   */
  replace(start: number, end: number, text: string): void {
    this.removals.push({ start, end });
    // After the closing text of a node that ends at `start`, before a block's last text.
    if (text) this.inserts.push({ pos: start, text, rank: 1.5, seq: this.seq++ });
  }

  /** The spliced text. */
  toString(): string {
    // "after" insertions at the same position nest: the one added last is innermost, so it comes
    // first; "before" insertions keep arrival order (outer wrappers are opened first).
    const ins = [...this.inserts].sort((a, b) => a.pos - b.pos || a.rank - b.rank || a.seq - b.seq);
    const rem = [...this.removals].sort((a, b) => a.start - b.start);
    const src = this.original;
    let out = "";
    let pos = 0;
    let i = 0;
    let r = 0;
    this.anchors = [];
    const keep = (to: number) => {
      if (to > pos) {
        this.anchors.push({ out: out.length, orig: pos });
        out += src.slice(pos, to);
        pos = to;
      }
    };
    while (i < ins.length || r < rem.length) {
      const nextIns = i < ins.length ? ins[i].pos : Infinity;
      const nextRem = r < rem.length ? rem[r].start : Infinity;
      if (nextIns <= nextRem) {
        keep(nextIns);
        const text = ins[i].text;
        out += typeof text === "string" ? text : text();
        i++;
      } else {
        keep(nextRem);
        pos = Math.max(pos, rem[r].end);
        r++;
      }
    }
    keep(src.length);
    return out;
  }

  /** Maps an offset of the last {@link toString} output back to an offset of the original. */
  toOriginal(outOffset: number): number {
    const a = this.anchors;
    let lo = 0;
    let hi = a.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (a[mid].out <= outOffset) lo = mid;
      else hi = mid - 1;
    }
    return a[lo].orig + Math.max(0, outOffset - a[lo].out);
  }
}
