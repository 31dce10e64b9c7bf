/**
 * Vector clocks and epochs: the happens-before bookkeeping of the race detector.
 *
 * A *vector clock* maps every thread to a logical time: entry `i` of a thread's clock is the last
 * event of thread `i` that happens before the thread's next event. Clocks form a lattice under the
 * pointwise order: `a ≤ b` when every entry of `a` is at most the same entry of `b`, and
 * `join(a, b)` is the pointwise maximum. An event with clock `a` happens before one with clock `b`
 * exactly when `a ≤ b` (and `a ≠ b`); neither `a ≤ b` nor `b ≤ a` means the events are concurrent.
 *
 * An *epoch* `t@c` (thread `t` at time `c`) is FastTrack's (Flanagan & Freund, PLDI 2009) compact
 * stand-in for a clock that is zero everywhere except at `t`: the last write to a location was by
 * one thread at one time, so it needs no vector. The test "this epoch happens before that clock",
 * `c ≤ clock[t]`, is one array load and one comparison: it is what keeps the race detector's
 * common case cheap.
 *
 * Thread indices are dense small integers (the engine's thread ids: `main` is 0, spawned threads
 * 1, 2, …), so a clock is a `Uint32Array` indexed by thread, grown on demand: a join is a tight
 * loop over two typed arrays, and reading one entry is one load. Entries at and beyond the logical
 * length {@link VectorClock.len} are zero, which lets clocks of different lengths be compared
 * without resizing.
 *
 * @module
 */

/**
 * A packed epoch `t@c`: thread `t` at time `c`, as one number (`c * 2^16 + t`). Made by
 * {@link epoch}; unpacked by {@link epochThread} and {@link epochTime}.
 */
export type Epoch = number;

/** Thread indices an {@link Epoch} can carry: `0 … MAX_EPOCH_THREADS - 1`. */
export const MAX_EPOCH_THREADS = 1 << 16;

/** Times are 32-bit unsigned: a thread's clock advances once per synchronising operation. */
const MAX_TIME = 0xffff_ffff;

/**
 * A vector clock over dense thread indices.
 *
 * Mutating methods work in place and return `this` so calls can be chained; {@link join} and
 * {@link VectorClock.clone} make new clocks.
 *
 * @example
 * ```ts
 * const a = VectorClock.of([1, 0, 2]);
 * const b = VectorClock.of([0, 3]);
 * a.join(b).toArray();          // [1, 3, 2]
 * b.le(a);                      // true: b happens before (or equals) a
 * ```
 */
export class VectorClock {
  /**
   * The entries, indexed by thread. Its length is the capacity; entries at and beyond
   * {@link VectorClock.len} are zero. Hot paths may read it directly (`clock.times[t]`) when `t` is
   * known to be below the capacity.
   */
  times: Uint32Array;
  /** The logical length: every entry at or beyond it is zero (entries below it may be zero too). */
  len = 0;

  /**
   * An all-zero clock.
   * @param capacity entries to allocate up front (the clock grows on demand anyway).
   */
  constructor(capacity = 4) {
    this.times = new Uint32Array(capacity > 0 ? capacity : 1);
  }

  /**
   * A clock with the given entries.
   * @param values entry `i` is thread `i`'s time (non-negative integers below 2^32).
   */
  static of(values: readonly number[]): VectorClock {
    const c = new VectorClock(values.length);
    for (let i = 0; i < values.length; i++) c.set(i, values[i]);
    return c;
  }

  /** Thread `t`'s entry (0 for any thread the clock has not seen). */
  get(t: number): number {
    return t < this.len ? this.times[t] : 0;
  }

  /**
   * Sets thread `t`'s entry.
   * @returns this clock.
   */
  set(t: number, time: number): this {
    if (!(time >= 0 && time <= MAX_TIME) || !Number.isInteger(time)) throw new RangeError(`vector clock time out of range: ${time}`);
    if (t >= this.len) {
      if (time === 0) return this;
      this.grow(t + 1);
      this.len = t + 1;
    }
    this.times[t] = time;
    return this;
  }

  /**
   * Advances thread `t`'s entry by one.
   * @returns the new time of `t`.
   */
  increment(t: number): number {
    if (t >= this.len) {
      this.grow(t + 1);
      this.len = t + 1;
    }
    const v = this.times[t] + 1;
    if (v > MAX_TIME) throw new RangeError("vector clock overflow");
    this.times[t] = v;
    return v;
  }

  /**
   * `this := this ⊔ other`: the pointwise maximum, in place.
   * @returns this clock.
   */
  join(other: VectorClock): this {
    const n = other.len;
    if (n > this.times.length) this.grow(n);
    const a = this.times;
    const b = other.times;
    for (let i = 0; i < n; i++) if (b[i] > a[i]) a[i] = b[i];
    if (n > this.len) this.len = n;
    return this;
  }

  /**
   * `this ≤ other` pointwise: every event this clock has seen, `other` has seen too (the partial
   * order of happens-before; equal clocks compare `≤` both ways).
   */
  le(other: VectorClock): boolean {
    const a = this.times;
    const b = other.times;
    const n = this.len;
    const m = n < other.len ? n : other.len;
    let i = 0;
    for (; i < m; i++) if (a[i] > b[i]) return false;
    for (; i < n; i++) if (a[i] !== 0) return false;
    return true;
  }

  /** Equal entries everywhere (lengths may differ by trailing zeros). */
  equals(other: VectorClock): boolean {
    return this.le(other) && other.le(this);
  }

  /**
   * The first thread whose entry here is greater than in `other` (a witness that `this ≰ other`),
   * or -1 when `this ≤ other`.
   */
  firstGreater(other: VectorClock): number {
    const a = this.times;
    const n = this.len;
    for (let i = 0; i < n; i++) if (a[i] > other.get(i)) return i;
    return -1;
  }

  /**
   * Makes this clock equal to `other`.
   * @returns this clock.
   */
  copyFrom(other: VectorClock): this {
    const n = other.len;
    if (n > this.times.length) this.grow(n);
    this.times.set(other.times.subarray(0, n));
    if (this.len > n) this.times.fill(0, n, this.len);
    this.len = n;
    return this;
  }

  /** A new clock equal to this one. */
  clone(): VectorClock {
    const c = new VectorClock(this.len > 0 ? this.len : 1);
    c.times.set(this.times.subarray(0, this.len));
    c.len = this.len;
    return c;
  }

  /**
   * Resets every entry to zero.
   * @returns this clock.
   */
  clear(): this {
    this.times.fill(0, 0, this.len);
    this.len = 0;
    return this;
  }

  /** True when every entry is zero (the clock of "before everything"). */
  isZero(): boolean {
    for (let i = 0; i < this.len; i++) if (this.times[i] !== 0) return false;
    return true;
  }

  /**
   * Makes room for `n` entries without changing any (so `times[t]` is a valid load for `t < n`).
   */
  reserve(n: number): void {
    if (n > this.times.length) this.grow(n);
  }

  /** The entries up to the last non-zero one. */
  toArray(): number[] {
    let n = this.len;
    while (n > 0 && this.times[n - 1] === 0) n--;
    return Array.from(this.times.subarray(0, n));
  }

  /** `[1, 0, 3]`: the entries up to the last non-zero one. */
  toString(): string {
    return `[${this.toArray().join(", ")}]`;
  }

  private grow(n: number): void {
    let cap = this.times.length;
    if (n <= cap) {
      // Room already: only the entries past the length may hold stale times.
      this.times.fill(0, this.len, n);
      return;
    }
    while (cap < n) cap *= 2;
    const t = new Uint32Array(cap);
    t.set(this.times.subarray(0, this.len));
    this.times = t;
  }
}

/** `a ⊔ b` as a new clock (neither argument changes). */
export function join(a: VectorClock, b: VectorClock): VectorClock {
  return a.clone().join(b);
}

/** `a ≤ b`: the pointwise order (reflexive). */
export function le(a: VectorClock, b: VectorClock): boolean {
  return a.le(b);
}

/**
 * `a` happens strictly before `b`: `a ≤ b` and `a ≠ b`. For the clocks of two events this is
 * Lamport's happens-before.
 */
export function happensBefore(a: VectorClock, b: VectorClock): boolean {
  return a.le(b) && !b.le(a);
}

/** Neither clock is `≤` the other: two events with these clocks are concurrent. */
export function concurrent(a: VectorClock, b: VectorClock): boolean {
  return !a.le(b) && !b.le(a);
}

/**
 * The epoch `thread@time`.
 * @param thread a thread index below {@link MAX_EPOCH_THREADS}.
 * @param time the thread's time (an integer below 2^32).
 */
export function epoch(thread: number, time: number): Epoch {
  if (!(thread >= 0 && thread < MAX_EPOCH_THREADS) || !Number.isInteger(thread)) throw new RangeError(`epoch thread out of range: ${thread}`);
  return time * MAX_EPOCH_THREADS + thread;
}

/** The thread of an epoch. */
export function epochThread(e: Epoch): number {
  return e % MAX_EPOCH_THREADS;
}

/** The time of an epoch. */
export function epochTime(e: Epoch): number {
  return Math.floor(e / MAX_EPOCH_THREADS);
}

/**
 * The epoch `t@c` happens before (or at) the clock: `c ≤ clock[t]`. FastTrack's fast test: one
 * load and one comparison, no vector.
 */
export function epochLe(e: Epoch, clock: VectorClock): boolean {
  return epochTime(e) <= clock.get(epochThread(e));
}

/** The current epoch of thread `t` under its own clock: `t@clock[t]`. */
export function epochOf(clock: VectorClock, t: number): Epoch {
  return epoch(t, clock.get(t));
}

/** `2@5`: thread 2 at time 5. */
export function formatEpoch(e: Epoch): string {
  return `${epochThread(e)}@${epochTime(e)}`;
}
