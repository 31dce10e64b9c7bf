/**
 * A map from the byte offsets `[0, size)` of one allocation to values, stored as one value per
 * *run* of equal values rather than one per byte: the per-byte state of an analysis (borrow
 * stacks, race-detector clocks, …) is affordable because neighbouring bytes almost always share it.
 *
 * ## Representation
 *
 * Two parallel arrays, sorted by offset: `starts[i]` is where run `i` begins and `values[i]` its
 * value; run `i` ends where run `i + 1` begins (the last run ends at `size`). The runs always cover
 * `[0, size)` exactly, in order, without gaps.
 *
 * ## Splitting and merging
 *
 * A mutation of `[start, end)` ({@link RangeMap.forEachMut}, {@link RangeMap.update},
 * {@link RangeMap.fill}) first *splits* the runs that straddle `start` and `end`, giving the part
 * beyond the cut a clone of the value (`ops.clone`), so that mutating a run in place never leaks
 * outside the range. After the mutation it *merges* each touched run with its neighbour when
 * `ops.equals` says they are equal. So as long as values are mutated only through these methods,
 * no two adjacent runs hold equal values.
 *
 * ## Complexity (R = number of runs, k = runs intersecting the range)
 *
 * - Finding the run of an offset: O(1) when the map has one run (the common case: a whole
 *   allocation with one state), or when the offset is in the run found last or the one after it
 *   (a walk through an array); O(log R) otherwise.
 * - `forEach(start, end)`: O(log R + k) and allocates nothing.
 * - `forEachMut`/`update`/`fill`: O(log R + k) plus at most two clones and k + 1 `equals` calls,
 *   plus the cost of inserting or removing array slots when a run is split or merged: a `splice`
 *   moves the runs after it, O(R - i) in the worst case but a `memmove` of pointers in practice, and
 *   O(1) when the change is at the end (runs carved left to right, the usual pattern).
 *   An access inside a single run that does not change its value need not split at all: look the
 *   run up with {@link RangeMap.runAt} and decide first (the borrow tracker does).
 *
 * @typeParam T - the value of one run; mutable objects are fine (they are cloned on split).
 */

/** How a {@link RangeMap} copies and compares its values. */
export interface RangeMapOps<T> {
  /** A copy of `value` that can be mutated independently (used when a run is split). */
  clone(value: T): T;
  /** Whether two values are interchangeable: adjacent runs with equal values are merged. */
  equals(a: T, b: T): boolean;
}

/**
 * Called for each run intersecting a range, with the run's value and its (clipped) bounds
 * `[start, end)`. Returning `true` stops the iteration.
 */
export type RunVisitor<T> = (value: T, start: number, end: number) => boolean | void;

/** Called for each run intersecting a range; returns the run's new value. */
export type RunUpdater<T> = (value: T, start: number, end: number) => T;

/** Operations for immutable values compared with `===` (numbers, strings, frozen objects). */
export function primitiveOps<T>(): RangeMapOps<T> {
  return { clone: (v) => v, equals: (a, b) => a === b };
}

/** A map from byte offsets `[0, size)` to values, one per maximal run of equal values. */
export class RangeMap<T> {
  /** The number of offsets covered: `[0, size)`. */
  readonly size: number;
  private readonly ops: RangeMapOps<T>;
  /** `starts[i]`: the first offset of run `i`; `starts[0] === 0` when `size > 0`. */
  private readonly starts: number[];
  /** `values[i]`: the value of run `i`. */
  private readonly values: T[];
  /** The run found by the last lookup: a hint, checked before use. */
  private hint = 0;

  /**
   * A map of `size` offsets, all holding `init` (one run; none when `size` is 0).
   *
   * @param size - number of offsets (bytes), a non-negative integer
   * @param init - the value of every offset (owned by the map from now on)
   * @param ops - how to clone and compare values
   */
  constructor(size: number, init: T, ops: RangeMapOps<T>) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`RangeMap: bad size ${size}`);
    this.size = size;
    this.ops = ops;
    this.starts = size > 0 ? [0] : [];
    this.values = size > 0 ? [init] : [];
  }

  /** The number of runs (1 for a map whose offsets all hold equal values, 0 when empty). */
  get runCount(): number {
    return this.starts.length;
  }

  /**
   * The index of the run containing `offset` (`0 <= offset < size`). Indices are valid until the
   * next mutation. O(1) for a one-run map, a repeated hit or the next run, O(log R) otherwise.
   */
  runAt(offset: number): number {
    const s = this.starts;
    const n = s.length;
    if (n === 1) return 0;
    const h = this.hint;
    if (h < n && s[h]! <= offset) {
      if (h + 1 === n || offset < s[h + 1]!) return h;
      // A walk through the runs in order (element after element) finds the next run.
      if (h + 2 === n || offset < s[h + 2]!) return (this.hint = h + 1);
    }
    if (offset < 0 || offset >= this.size || n === 0) throw new RangeError(`RangeMap: offset ${offset} outside [0, ${this.size})`);
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.hint = lo;
    return lo;
  }

  /** The first offset of run `i`. */
  runStart(i: number): number {
    return this.starts[i]!;
  }

  /** The offset just past run `i`. */
  runEnd(i: number): number {
    return i + 1 < this.starts.length ? this.starts[i + 1]! : this.size;
  }

  /**
   * The value of run `i`. Mutating it in place changes every offset of the run: call
   * {@link RangeMap.mergeAround} afterwards (or use {@link RangeMap.forEachMut}).
   */
  runValue(i: number): T {
    return this.values[i]!;
  }

  /** The value at `offset` (shared with the rest of its run: do not mutate it). */
  get(offset: number): T {
    return this.values[this.runAt(offset)]!;
  }

  /**
   * Visits the runs intersecting `[start, end)` in order, with bounds clipped to the range,
   * without splitting anything. For reading: a mutation would apply to the whole run.
   */
  forEach(start: number, end: number, fn: RunVisitor<T>): void {
    if (start >= end) return;
    this.checkRange(start, end);
    const s = this.starts;
    const n = s.length;
    for (let i = this.runAt(start); i < n && s[i]! < end; i++) {
      const rs = s[i]!;
      const re = i + 1 < n ? s[i + 1]! : this.size;
      if (fn(this.values[i]!, rs > start ? rs : start, re < end ? re : end) === true) return;
    }
  }

  /** Visits every run in order: `[start, end, value]`. */
  *entries(): IterableIterator<[start: number, end: number, value: T]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i]!, this.runEnd(i), this.values[i]!];
  }

  /**
   * Visits the runs of `[start, end)` with mutable access: runs straddling `start` or `end` are
   * split first (the part inside the range gets its own value), so `fn` may mutate the value it is
   * given in place; afterwards the touched runs are merged with equal neighbours. Returning
   * `true` from `fn` stops the iteration (the map stays consistent, and is still merged).
   */
  forEachMut(start: number, end: number, fn: RunVisitor<T>): void {
    if (start >= end) return;
    this.checkRange(start, end);
    const first = this.splitAt(start);
    const last = this.splitAt(end) - 1;
    try {
      const s = this.starts;
      for (let i = first; i <= last; i++) {
        if (fn(this.values[i]!, s[i]!, i + 1 < s.length ? s[i + 1]! : this.size) === true) break;
      }
    } finally {
      this.mergeBetween(first - 1, last + 1);
    }
  }

  /**
   * Replaces the value of each run of `[start, end)` by `fn(value, start, end)` (splitting and
   * merging as {@link RangeMap.forEachMut} does): for values that are not mutated in place.
   */
  update(start: number, end: number, fn: RunUpdater<T>): void {
    if (start >= end) return;
    this.checkRange(start, end);
    const first = this.splitAt(start);
    const last = this.splitAt(end) - 1;
    try {
      const s = this.starts;
      const v = this.values;
      for (let i = first; i <= last; i++) v[i] = fn(v[i]!, s[i]!, i + 1 < s.length ? s[i + 1]! : this.size);
    } finally {
      this.mergeBetween(first - 1, last + 1);
    }
  }

  /** Sets every offset of `[start, end)` to `value` (one run, merged with equal neighbours). */
  fill(start: number, end: number, value: T): void {
    if (start >= end) return;
    this.checkRange(start, end);
    const first = this.splitAt(start);
    const last = this.splitAt(end) - 1;
    if (last > first) {
      removeAt(this.starts, first + 1, last - first);
      removeAt(this.values, first + 1, last - first);
    }
    this.values[first] = value;
    this.mergeBetween(first - 1, first + 1);
  }

  /**
   * Merges run `i` with its neighbours when they are equal: call it after mutating
   * {@link RangeMap.runValue}`(i)` in place. O(1) `equals` calls.
   */
  mergeAround(i: number): void {
    if (this.starts.length > 1) this.mergeBetween(i - 1, i + 1);
  }

  /**
   * Merges every pair of equal adjacent runs (O(R) `equals` calls): after values were changed
   * outside the mutation methods, for example by a garbage collection of their contents.
   */
  mergeAll(): void {
    this.mergeBetween(0, this.starts.length - 1);
  }

  /** Visits every run with mutable access (no splitting), then merges the whole map. */
  forEachRunMut(fn: RunVisitor<T>): void {
    try {
      for (let i = 0; i < this.starts.length; i++) {
        if (fn(this.values[i]!, this.starts[i]!, this.runEnd(i)) === true) break;
      }
    } finally {
      this.mergeAll();
    }
  }

  /** Throws unless `0 <= start < end <= size`. */
  private checkRange(start: number, end: number): void {
    if (!(start >= 0 && end <= this.size)) throw new RangeError(`RangeMap: range [${start}, ${end}) outside [0, ${this.size})`);
  }

  /**
   * Makes `offset` the start of a run (splitting the run containing it, the part from `offset`
   * on getting a clone) and returns that run's index; `offset === size` returns `runCount`.
   */
  private splitAt(offset: number): number {
    if (offset >= this.size) return this.starts.length;
    const i = this.runAt(offset);
    if (this.starts[i] === offset) return i;
    const copy = this.ops.clone(this.values[i]!);
    if (i + 1 === this.starts.length) {
      // Splitting the last run (runs carved left to right): no slots to move.
      this.starts.push(offset);
      this.values.push(copy);
    } else {
      insertAt(this.starts, i + 1, offset);
      insertAt(this.values, i + 1, copy);
    }
    this.hint = i + 1;
    return i + 1;
  }

  /** Merges equal adjacent runs among runs `lo..hi` (clamped to the map). */
  private mergeBetween(lo: number, hi: number): void {
    const s = this.starts;
    const v = this.values;
    if (lo < 0) lo = 0;
    if (hi > s.length - 1) hi = s.length - 1;
    if (hi <= lo) return;
    const eq = this.ops.equals;
    let w = lo;
    for (let r = lo + 1; r <= hi; r++) {
      if (eq(v[w]!, v[r]!)) continue; // run r joins run w: its start disappears
      w++;
      if (w !== r) {
        s[w] = s[r]!;
        v[w] = v[r]!;
      }
    }
    const removed = hi - w;
    if (removed > 0) {
      removeAt(s, w + 1, removed);
      removeAt(v, w + 1, removed);
      this.hint = w;
    }
  }
}

/**
 * Inserts `x` at index `at` of `a`: `a.splice(at, 0, x)` without the array `splice` returns (a
 * split or merge of runs happens at every partial borrow: that garbage added up).
 */
function insertAt<X>(a: X[], at: number, x: X): void {
  for (let k = a.length; k > at; k--) a[k] = a[k - 1]!;
  a[at] = x;
}

/** Removes `n` items at index `at` of `a`: `a.splice(at, n)` without the array it returns. */
function removeAt<X>(a: X[], at: number, n: number): void {
  const len = a.length;
  for (let k = at; k + n < len; k++) a[k] = a[k + n]!;
  a.length = len - n;
}
