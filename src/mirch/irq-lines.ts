/**
 * Interrupt lines and the interrupts pending on each CPU.
 *
 * A line has a number in [{@link IRQ_NUM_MIN}, {@link IRQ_NUM_MAX}] (x86's vectors for devices and
 * IPIs), the handlers registered with `on_active`, and an optional affinity (the one CPU it is
 * delivered to). Raising a line queues one interrupt on the CPU that will take it; which CPU that
 * is (the affinity, or one the seed picks among those that can take interrupts) is the engine's
 * decision, so {@link IrqLines.raise} takes it as an argument. Each CPU takes its interrupts in the
 * order they were raised, at its next preemption point with interrupts enabled.
 */

import { IRQ_NUM_MAX, IRQ_NUM_MIN } from "./constants.js";

/** One allocated interrupt line. */
export interface IrqLineState<H> {
  readonly num: number;
  /** The handlers, in registration order; each runs when the line is taken. */
  readonly handlers: H[];
  /** The one CPU the line is delivered to, or `null` for any. */
  affinity: number | null;
}

/** An interrupt waiting on a CPU. */
export interface PendingIrq<D> {
  readonly num: number;
  readonly data: D;
}

/**
 * The Machine's interrupt lines and per-CPU pending queues.
 *
 * @typeParam H - a handler (the engine's closure over the program's function)
 * @typeParam D - what the engine attaches to a raise (e.g. the raiser's clock, for happens-before)
 */
export class IrqLines<H = unknown, D = undefined> {
  private readonly lines = new Map<number, IrqLineState<H>>();
  private readonly pending = new Map<number, PendingIrq<D>[]>();

  /**
   * Allocates a line: `num` when given (it must be free and in range), else the lowest free number.
   *
   * @returns the line, or why not (taken, out of range, none left)
   */
  alloc(num?: number): IrqLineState<H> | string {
    if (num === undefined) {
      for (let n = IRQ_NUM_MIN; n <= IRQ_NUM_MAX; n++) if (!this.lines.has(n)) return this.create(n);
      return `no free interrupt line: all of ${IRQ_NUM_MIN}..=${IRQ_NUM_MAX} are allocated`;
    }
    if (!Number.isInteger(num) || num < IRQ_NUM_MIN || num > IRQ_NUM_MAX) {
      return `interrupt line ${num} is out of range: lines are numbered ${IRQ_NUM_MIN}..=${IRQ_NUM_MAX}`;
    }
    if (this.lines.has(num)) return `interrupt line ${num} is already allocated`;
    return this.create(num);
  }

  /** The line numbered `num`, or `undefined` when not allocated. */
  line(num: number): IrqLineState<H> | undefined {
    return this.lines.get(num);
  }

  /** Every allocated line, by number. */
  allLines(): IrqLineState<H>[] {
    return [...this.lines.values()].sort((a, b) => a.num - b.num);
  }

  /**
   * Frees a line (its number may be allocated again) and drops its pending interrupts.
   *
   * @returns whether the line was allocated
   */
  free(num: number): boolean {
    if (!this.lines.delete(num)) return false;
    for (const [cpu, q] of this.pending) {
      const kept = q.filter((p) => p.num !== num);
      if (kept.length === 0) this.pending.delete(cpu);
      else this.pending.set(cpu, kept);
    }
    return true;
  }

  /** Registers a handler on line `num`; returns false when the line is not allocated. */
  onActive(num: number, handler: H): boolean {
    const l = this.lines.get(num);
    if (l === undefined) return false;
    l.handlers.push(handler);
    return true;
  }

  /** Sets the line's affinity (`null`: any CPU); returns false when the line is not allocated. */
  setAffinity(num: number, cpu: number | null): boolean {
    const l = this.lines.get(num);
    if (l === undefined) return false;
    l.affinity = cpu;
    return true;
  }

  /**
   * Queues an interrupt of line `num` on `cpu` (the CPU the engine chose: the affinity, or one the
   * seed picked).
   *
   * @returns false (and queues nothing) when the line is not allocated
   */
  raise(num: number, cpu: number, data: D = undefined as D): boolean {
    if (!this.lines.has(num)) return false;
    let q = this.pending.get(cpu);
    if (q === undefined) this.pending.set(cpu, (q = []));
    q.push({ num, data });
    return true;
  }

  /** The interrupts waiting on `cpu`, oldest first. */
  pendingFor(cpu: number): readonly PendingIrq<D>[] {
    return this.pending.get(cpu) ?? EMPTY;
  }

  /** Whether some interrupt waits on `cpu`. */
  hasPending(cpu: number): boolean {
    return this.pending.has(cpu);
  }

  /** Removes and returns the oldest interrupt waiting on `cpu`, or `undefined`. */
  take(cpu: number): PendingIrq<D> | undefined {
    const q = this.pending.get(cpu);
    if (q === undefined) return undefined;
    const first = q.shift();
    if (q.length === 0) this.pending.delete(cpu);
    return first;
  }

  /** Drops every pending interrupt (they are dropped when the program ends). */
  clearPending(): void {
    this.pending.clear();
  }

  private create(num: number): IrqLineState<H> {
    const l: IrqLineState<H> = { num, handlers: [], affinity: null };
    this.lines.set(num, l);
    return l;
  }
}

const EMPTY: readonly PendingIrq<never>[] = Object.freeze([]);
