/**
 * The site table: every place in the program a report can point at (a call, a loop, a throw, a
 * function entry) gets a small integer id at compile time. At run time the instrumented code
 * pushes ids on a per-thread stack; a report turns them into `.ts` locations through this table.
 */
import type { SourceLocation } from "../report.js";

export class SiteTable {
  readonly file: string[] = [];
  readonly line: number[] = [];
  readonly column: number[] = [];
  readonly endLine: number[] = [];
  readonly endColumn: number[] = [];
  /** The name of the function the site is in, for backtraces. */
  readonly fn: string[] = [];
  /** 1 when the site is inside an `unsafe:` block or an `"unsafe"` function. */
  unsafe: Uint8Array = new Uint8Array(1024);

  get size(): number {
    return this.file.length;
  }

  add(loc: SourceLocation, fn: string, unsafe: boolean): number {
    const id = this.file.length;
    this.file.push(loc.file);
    this.line.push(loc.line);
    this.column.push(loc.column);
    this.endLine.push(loc.endLine ?? loc.line);
    this.endColumn.push(loc.endColumn ?? loc.column + 1);
    this.fn.push(fn);
    if (id >= this.unsafe.length) {
      const grown = new Uint8Array(this.unsafe.length * 2);
      grown.set(this.unsafe);
      this.unsafe = grown;
    }
    this.unsafe[id] = unsafe ? 1 : 0;
    return id;
  }

  location(id: number): SourceLocation {
    return {
      file: this.file[id],
      line: this.line[id],
      column: this.column[id],
      endLine: this.endLine[id],
      endColumn: this.endColumn[id],
    };
  }
}
