/**
 * The data-race detector: happens-before with vector clocks, FastTrack epochs for the common case,
 * atomics with the five orderings, release sequences, fences, spawn/join and lock edges — Miri's
 * model (`src/concurrency/data_race.rs`, after Lidbury & Donaldson's "Dynamic Race Detection for
 * C++11", POPL 2017, with C++20's release sequences), rebuilt around FastTrack's adaptive
 * representation of reads.
 *
 * ## What counts as a race
 *
 * Two accesses to the same byte race when they are on different threads, at least one writes, at
 * least one is not atomic, and neither happens before the other. Allocation and deallocation count
 * as writes of every byte, and Stacked Borrows retags count as reads or writes (Miri's rule: a
 * retag permits speculative accesses). On top of that, two overlapping atomic accesses of
 * different sizes must be ordered unless both are loads (Miri's mixed-size rule: such accesses do
 * not exist in C++, and hardware does not promise anything about them).
 *
 * ## The clocks
 *
 * Every thread has a clock (a {@link VectorClock}) and two fence clocks: `fenceAcquire`, what an
 * acquire fence would acquire (the join of what its relaxed loads read), and `fenceRelease`, the
 * clock at its last release fence (what its relaxed stores publish). A thread's own entry advances
 * after every operation that releases (spawn, termination, a lock release, a release fence) and,
 * conservatively, after every atomic operation: a run of non-atomic accesses followed by one
 * synchronising operation shares one timestamp, which is what makes epochs stable.
 *
 * Per location (a {@link RaceCell}, one per run of bytes with the same history):
 * - the last non-atomic write as an epoch `t@c` plus its kind (write, allocation, deallocation,
 *   retag write) — writes are totally ordered until a race, so one epoch is enough;
 * - the non-atomic reads since that write, adaptively: one epoch while the reads are ordered
 *   (FastTrack's "read exclusive"), a vector once two threads read concurrently ("read shared");
 * - for a location used atomically, lazily: per-thread clocks of the last atomic load and store,
 *   the access size, and the *sync clock* an acquire load acquires. A release store sets it to the
 *   thread's clock; a relaxed store sets it to the thread's `fenceRelease` (so a release fence
 *   before it still publishes), which also ends any release sequence (C++20); a read-modify-write
 *   *joins* into it, so a release sequence continues through RMWs of any thread.
 *
 * | operation | must happen after | then |
 * | --- | --- | --- |
 * | non-atomic read | the last write, every atomic store | record the read (epoch or vector) |
 * | non-atomic write, allocation, deallocation | the last write, every read, every atomic load and store | write := `t@c`, forget reads and atomics |
 * | atomic load | the last non-atomic write; sizes agree or every atomic store is ordered | acquire: clock ⊔= sync; relaxed: fenceAcquire ⊔= sync |
 * | atomic store | the last non-atomic write and reads; sizes agree or every atomic access is ordered | release: sync := clock; relaxed: sync := fenceRelease |
 * | atomic RMW | as a store | the load's acquire, then sync ⊔= clock (release) or ⊔= fenceRelease (relaxed) |
 * | fence | — | acquire: clock ⊔= fenceAcquire; SeqCst: an RMW on one global clock; release: fenceRelease := clock |
 * | spawn / join | — | the child starts with the parent's clock / the joiner joins the child's final clock |
 * | lock release / acquire | — | the lock's clock := the releaser's / the acquirer joins it |
 *
 * The detector decides no values: a load acquires the location's latest sync clock, unless the
 * weak-memory emulation (weak-memory.ts) picked an older store for it and passes that store's clock
 * ({@link RaceDetector.atomicLoadFrom}). For happens-before a SeqCst access behaves as an acquire
 * load or a release store (the SC rules that limit which store a load may read are weak-memory.ts's);
 * a SeqCst fence is an RMW on one global clock, as Miri models it (which rules out some legal
 * executions, never reports a false race).
 *
 * ## The hot path
 *
 * A non-atomic access by the thread that already touched the location in its current epoch is
 * FastTrack's "same epoch" case: two or three comparisons and a store of the access site, no
 * vector. A read of what the thread itself wrote in its current epoch is not even recorded: the
 * write epoch stands for it (whatever races with the read races with the write, and Miri reports
 * the write first). Reading a location last written by another thread costs one more load
 * (`c ≤ clock[t]`). Vectors appear only for read-shared locations and atomics.
 *
 * ## Granularity: one run list per allocation
 *
 * Race state is per byte in meaning, stored per *run* of bytes with the same state: an
 * {@link AllocRaceState} per allocation holds sorted run starts and a {@link RaceCell} per run,
 * split on demand at the edges of an access that changes state on part of a run, and compacted
 * (equal neighbours merged) when runs pile up. An access at the end of a run whose neighbour is
 * already in the state the access leaves (a sequential scan) moves the boundary instead of
 * splitting. This is Miri's choice (`DedupRangeMap` of `MemoryCellClocks`): exact per-byte
 * semantics — no false races between neighbouring fields — at the cost of a lookup per access:
 * a check of the last run used and its neighbours (sequential and repeated accesses hit them) or
 * a binary search over runs, a split (a clone and an O(runs) insertion) on the first
 * differently-shaped access to the middle of a run, about 100 bytes per run, plus vectors only
 * for read-shared and atomic runs. A scalar allocation or a buffer always accessed whole stays one run
 * and costs no search at all. The alternative, a fixed shadow granule per 1–8 bytes (TSan), is an
 * O(1) index but costs 10–20 bytes of shadow per byte of memory and loses precision or multiplies
 * the checks of wide accesses; the engine's allocations (kernel objects, page tables, frames)
 * favour runs. A {@link RaceCell} has `clone` and `equals` (sites ignored, as Miri ignores spans
 * when it merges runs), so the engine can keep cells in the shared range map
 * (`src/data-structures/range-map.ts`, with {@link raceCellOps}) instead, and call
 * {@link RaceDetector.accessCell} on each run an access covers; {@link AllocRaceState} stays the
 * faster choice, since it moves boundaries on scans and decides same-epoch accesses before any
 * split.
 *
 * ## Sites
 *
 * A *site* is an opaque number the engine gives with every access (its call-site id, or an
 * interned backtrace id if it wants the earlier access's whole backtrace); the detector stores the
 * site of every recorded access and returns both sites of a race, never interpreting them.
 *
 * @module
 */

import type { RangeMapOps } from "../data-structures/range-map.js";
import { VectorClock } from "./vector-clock.js";

// ───────────────────────────── public types ─────────────────────────────

/** A memory ordering, spelled as Rust's `core::sync::atomic::Ordering` (and kmiri/rt's `Ordering`). */
export type AtomicOrdering = "Relaxed" | "Acquire" | "Release" | "AcqRel" | "SeqCst";

/** A fence ordering: every ordering but `Relaxed` (Rust panics on a relaxed fence). */
export type FenceOrdering = Exclude<AtomicOrdering, "Relaxed">;

/** What an access in a race was, in Miri's words. */
export type RaceAccessKind =
  | "non-atomic write"
  | "non-atomic read"
  | "atomic load"
  | "atomic store"
  | "atomic read-modify-write"
  | "deallocation"
  | "creating a new allocation"
  | "retag read"
  | "retag write";

/**
 * A data race, as data: (1) the earlier access, recorded in the location's state, and (2) the
 * access that just happened and does not happen after it. Word it with {@link describeRace}.
 */
export interface DataRace {
  /** What the earlier access was. */
  kind1: RaceAccessKind;
  /** The thread of the earlier access. */
  thread1: number;
  /** The site of the earlier access (the opaque number the engine passed). */
  site1: number;
  /** What the current access is. */
  kind2: RaceAccessKind;
  /** The thread of the current access. */
  thread2: number;
  /** The site of the current access. */
  site2: number;
  /**
   * Offset in the allocation of the first racing byte (the start of the racing run inside the
   * access, as Miri reports it).
   */
  offset: number;
  /** Size in bytes of the current access. */
  size: number;
  /** The allocation's id, when the engine gave one to {@link RaceDetector.allocate}. */
  alloc?: number;
  /** Both accesses are atomic and the race is only that their sizes differ. */
  mixedSize?: boolean;
  /**
   * For a mixed-size race, the size of the earlier atomic access; 0 when several loads of
   * different sizes were seen (Miri's "multiple differently-sized atomic loads").
   */
  size1?: number;
}

/** A race worded as Miri words it; the engine adds the location of `site2`, the thread and the backtrace. */
export interface RaceDescription {
  /** The UB kind of the report. */
  kind: "data-race";
  /** `Undefined Behavior`. */
  title: "Undefined Behavior";
  /** `Data race detected between (1) … on thread `a` and (2) … on thread `b` at alloc9[0x4]`. */
  message: string;
  /** The label under the current access: `(2) just happened here`. */
  label: string;
  /** Help lines in Miri's order; a line with `site` points at that site (`and (1) occurred earlier here`). */
  help: { message: string; site?: number }[];
}

/** Names for {@link describeRace}. */
export interface RaceNames {
  /** A thread's display name (`main`, `cpu1`, …). */
  thread(t: number): string;
  /** The allocation: a number prints as `alloc<N>`, a string as itself. Default: the race's `alloc`, else `alloc?`. */
  alloc?: number | string;
}

// ───────────────────────────── internal codes ─────────────────────────────

/** Non-atomic write kinds, stored in {@link RaceCell.wk}. */
const W_ALLOC = 0;
const W_WRITE = 1;
const W_RETAG = 2;
const W_DEALLOC = 3;
/** Non-atomic read kinds, stored in {@link RaceCell.rk} and read vectors' tags. */
const R_READ = 0;
const R_RETAG = 1;
/** {@link RaceCell.rt} when no read was recorded since the last write. */
const NO_READ = -1;
/** {@link RaceCell.rt} when the reads are in the read vector {@link RaceCell.rv}. */
const SHARED = -2;

/** Access codes of the slow path. */
const A_NA_READ = 0;
const A_NA_WRITE = 1;
const A_LOAD = 2;
const A_STORE = 3;
const A_RMW = 4;

const WRITE_KINDS: readonly RaceAccessKind[] = ["creating a new allocation", "non-atomic write", "retag write", "deallocation"];
const READ_KINDS: readonly RaceAccessKind[] = ["non-atomic read", "retag read"];

// ───────────────────────────── per-location state ─────────────────────────────

/**
 * Per-thread timestamps with the site (and a small tag) of each entry: the read vector of a
 * read-shared location, and the atomic load and store vectors. Comparable with a
 * {@link VectorClock}.
 */
export class SiteVector {
  /** Timestamps by thread; entries at and beyond {@link SiteVector.len} are zero. */
  times: Uint32Array;
  /**
   * The site of each entry (any number the engine uses as a site). A plain array, not a typed
   * one: read vectors are cloned at every split of a run, and a typed array of more than 64 bytes
   * (eight 64-bit sites) gets a backing store of its own outside the heap, whose allocation cost a
   * third of the time of a 16-thread run.
   */
  sites: number[];
  /** A tag per entry (for reads: 0 a read, 1 a retag read). */
  tags: Uint8Array;
  /** Logical length. */
  len = 0;
  /**
   * Held by more than one run (a split shares it: copy on write). Whoever changes a shared vector
   * changes a copy of its own ({@link RaceCell}'s writers do).
   */
  shared = false;

  /** An empty vector with room for `capacity` threads. */
  constructor(capacity = 4) {
    this.times = new Uint32Array(capacity);
    this.sites = new Array<number>(capacity).fill(0);
    this.tags = new Uint8Array(capacity);
  }

  /** Records thread `t`'s access at `time` from `site`. */
  set(t: number, time: number, site: number, tag = 0): void {
    if (t >= this.times.length) this.grow(t + 1);
    if (t >= this.len) this.len = t + 1;
    this.times[t] = time;
    this.sites[t] = site;
    this.tags[t] = tag;
  }

  /** Every entry is `≤` the clock: each recorded access happens before the clock's owner. */
  le(clock: VectorClock): boolean {
    const a = this.times;
    const b = clock.times;
    const n = this.len;
    const m = n < clock.len ? n : clock.len;
    let i = 0;
    for (; i < m; i++) if (a[i] > b[i]) return false;
    for (; i < n; i++) if (a[i] !== 0) return false;
    return true;
  }

  /** The first thread whose entry is not `≤` the clock, or -1. */
  firstGreater(clock: VectorClock): number {
    const a = this.times;
    for (let i = 0; i < this.len; i++) if (a[i] > clock.get(i)) return i;
    return -1;
  }

  /** Same timestamps and tags (sites are ignored). */
  equals(o: SiteVector): boolean {
    const n = this.len > o.len ? this.len : o.len;
    for (let i = 0; i < n; i++) {
      const x = i < this.len ? this.times[i] : 0;
      const y = i < o.len ? o.times[i] : 0;
      if (x !== y) return false;
      if (x !== 0 && this.tags[i] !== o.tags[i]) return false;
    }
    return true;
  }

  /**
   * Same timestamps and tags as `o` with thread `t`'s entry replaced by (`time`, `tag`): the
   * vector `o` becomes when `t` records an access (sites are ignored).
   */
  equalsWith(o: SiteVector, t: number, time: number, tag: number): boolean {
    if (t >= this.len || this.times[t] !== time || this.tags[t] !== tag) return false;
    const n = this.len > o.len ? this.len : o.len;
    for (let i = 0; i < n; i++) {
      if (i === t) continue;
      const x = i < this.len ? this.times[i] : 0;
      const y = i < o.len ? o.times[i] : 0;
      if (x !== y) return false;
      if (x !== 0 && this.tags[i] !== o.tags[i]) return false;
    }
    return true;
  }

  /** Exactly two entries: thread `a`'s (`ta`, tag `ka`) and thread `b`'s (`tb`, tag `kb`). */
  isPair(a: number, ta: number, ka: number, b: number, tb: number, kb: number): boolean {
    const times = this.times;
    if (a >= this.len || b >= this.len || times[a] !== ta || times[b] !== tb || this.tags[a] !== ka || this.tags[b] !== kb) return false;
    for (let i = 0; i < this.len; i++) if (times[i] !== 0 && i !== a && i !== b) return false;
    return true;
  }

  /** Forgets every entry. */
  clear(): void {
    this.times.fill(0, 0, this.len);
    this.len = 0;
  }

  /** A copy (each array allocated once, by `slice`). */
  clone(): SiteVector {
    const v: SiteVector = Object.create(SiteVector.prototype);
    v.times = this.times.slice();
    v.sites = this.sites.slice();
    v.tags = this.tags.slice();
    v.len = this.len;
    v.shared = false;
    return v;
  }

  private grow(n: number): void {
    let cap = this.times.length || 1;
    while (cap < n) cap *= 2;
    const t = new Uint32Array(cap);
    t.set(this.times);
    const g = new Uint8Array(cap);
    g.set(this.tags);
    this.times = t;
    while (this.sites.length < cap) this.sites.push(0);
    this.tags = g;
  }
}

/** The read vector of `c` to change: its own (a shared one is copied first). */
function ownReads(c: RaceCell): SiteVector {
  const v = c.rv!;
  return v.shared ? (c.rv = v.clone()) : v;
}

/** Forgets `c`'s reads (a write): its vector is cleared for reuse, or let go when shared. */
function clearReads(c: RaceCell): void {
  if (c.rv!.shared) c.rv = null;
  else c.rv!.clear();
}

/** The atomic side of a location, made on its first atomic access and dropped by a non-atomic write. */
export class AtomicCell {
  /** Each thread's last atomic load (and the load half of RMWs). */
  readonly loads = new SiteVector();
  /** Each thread's last atomic store (and RMW). */
  readonly stores = new SiteVector();
  /** What an acquire load of this location acquires: the release sequence's clock. */
  readonly sync = new VectorClock();
  /** Size of the atomic accesses; 0 once loads of different sizes were seen (only loads may follow). */
  size: number;

  /** @param size the size of the first atomic access. */
  constructor(size: number) {
    this.size = size;
  }

  /** A deep copy. */
  clone(): AtomicCell {
    const a = new AtomicCell(this.size);
    copySiteVector(a.loads, this.loads);
    copySiteVector(a.stores, this.stores);
    a.sync.copyFrom(this.sync);
    return a;
  }

  /** Same state, sites ignored. */
  equals(o: AtomicCell): boolean {
    return this.size === o.size && this.loads.equals(o.loads) && this.stores.equals(o.stores) && this.sync.equals(o.sync);
  }
}

function copySiteVector(dst: SiteVector, src: SiteVector): void {
  for (let i = 0; i < src.len; i++) if (src.times[i] !== 0) dst.set(i, src.times[i], src.sites[i], src.tags[i]);
}

/**
 * The race state of one location (a run of bytes with the same history). Fields are short
 * because the hot path reads them on every access; treat them as read-only outside this module.
 */
export class RaceCell {
  /** Thread of the last non-atomic write (the write epoch's thread). */
  wt = 0;
  /** Time of the last non-atomic write (the write epoch's clock). */
  wc = 0;
  /** Site of the last non-atomic write. */
  ws = -1;
  /** Kind of the last write: allocation, write, retag write, deallocation. */
  wk = W_ALLOC;
  /** Thread of the read epoch; -1 no read since the last write; -2 the reads are in {@link RaceCell.rv}. */
  rt = NO_READ;
  /** Time of the read epoch. */
  rc = 0;
  /** Site of the read epoch. */
  rs = -1;
  /** Kind of the read epoch: read or retag read. */
  rk = R_READ;
  /** The reads of a read-shared location (kept, cleared, for reuse after a write). */
  rv: SiteVector | null = null;
  /** The atomic side, or null for a location not (or no longer) used atomically. */
  atomic: AtomicCell | null = null;

  /** A deep copy (for a range map's split). */
  clone(): RaceCell {
    const c = new RaceCell();
    c.wt = this.wt;
    c.wc = this.wc;
    c.ws = this.ws;
    c.wk = this.wk;
    c.rt = this.rt;
    c.rc = this.rc;
    c.rs = this.rs;
    c.rk = this.rk;
    if (this.rt === SHARED) {
      // Copy on write: the split runs share the read vector until one of them records a read.
      c.rv = this.rv;
      this.rv!.shared = true;
    }
    if (this.atomic) c.atomic = this.atomic.clone();
    return c;
  }

  /** Same state (for a range map's merge); sites are ignored, as Miri ignores spans. */
  equals(o: RaceCell): boolean {
    if (this.wt !== o.wt || this.wc !== o.wc || this.wk !== o.wk || this.rt !== o.rt) return false;
    if (this.rt >= 0 && (this.rc !== o.rc || this.rk !== o.rk)) return false;
    if (this.rt === SHARED && !this.rv!.equals(o.rv!)) return false;
    if (this.atomic === null || o.atomic === null) return this.atomic === o.atomic;
    return this.atomic.equals(o.atomic);
  }
}

/**
 * How the shared {@link RangeMapOps | range map} (`src/data-structures/range-map.ts`) clones and
 * compares {@link RaceCell}s, for an engine that keeps race cells there instead of in an
 * {@link AllocRaceState}.
 *
 * @example
 * ```ts
 * const cells = new RangeMap(size, det.newCell(t, site), raceCellOps);
 * let race: DataRace | null = null;
 * cells.forEachMut(off, off + len, (c, start) => (race = det.accessCell(c, "non-atomic write", "Relaxed", start, len, t, site)) !== null);
 * ```
 */
export const raceCellOps: RangeMapOps<RaceCell> = {
  clone: (c) => c.clone(),
  equals: (a, b) => a.equals(b),
};

/**
 * The race state of one allocation: runs of bytes, each with a {@link RaceCell}. Made by
 * {@link RaceDetector.allocate}; the engine keeps one per allocation and passes it with every
 * access.
 */
export class AllocRaceState {
  /** Start offset of each run, increasing; `starts[0]` is 0. */
  readonly starts: number[] = [0];
  /** The state of each run. */
  readonly cells: RaceCell[];
  /** The run used last (sequential and repeated accesses hit it without a search). */
  private last = 0;
  /**
   * The weak-memory emulation's store buffers of this allocation (`src/concurrency/weak-memory.ts`,
   * an `AllocStoreBuffers`), kept here so that a non-atomic write finds them with one load; `null`
   * until an atomic store while weak memory is on.
   */
  weak: object | null = null;
  /** Compact (merge equal neighbours) once there are more runs than this. */
  private compactAt = 16;

  /**
   * @param size the allocation's size in bytes.
   * @param cell the state of every byte.
   * @param id the allocation's id, copied into races (`alloc9[0x4]`).
   */
  constructor(
    readonly size: number,
    cell: RaceCell,
    readonly id?: number,
  ) {
    this.cells = [cell];
  }

  /** The index of the run containing `offset` (which must be below {@link AllocRaceState.size}, or 0). */
  find(offset: number): number {
    const st = this.starts;
    const n = st.length;
    const i = this.last;
    if (st[i] <= offset) {
      if (i + 1 === n || st[i + 1] > offset) return i;
      // The next run (a forward scan).
      if (i + 2 === n || st[i + 2] > offset) return (this.last = i + 1);
    } else if (i > 0 && st[i - 1] <= offset) {
      // The previous run (a backward scan, or a boundary just moved past the offset).
      return (this.last = i - 1);
    }
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (st[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return (this.last = lo);
  }

  /** The end (exclusive) of run `i`. */
  end(i: number): number {
    return i + 1 < this.starts.length ? this.starts[i + 1] : this.size;
  }

  /** The state of the byte at `offset`. */
  cellAt(offset: number): RaceCell {
    return this.cells[this.find(offset)];
  }

  /** Makes `offset` the start of a run (a no-op at 0, at the end, or at an existing start). */
  split(offset: number): void {
    if (offset <= 0 || offset >= this.size) return;
    const i = this.find(offset);
    const st = this.starts;
    if (st[i] === offset) return;
    const cs = this.cells;
    // Insert at i + 1 by hand: `splice` allocates and is several times slower on short arrays.
    let j = st.length;
    st.push(offset);
    cs.push(cs[i]);
    for (; j > i + 1; j--) {
      st[j] = st[j - 1];
      cs[j] = cs[j - 1];
    }
    st[i + 1] = offset;
    cs[i + 1] = cs[i].clone();
  }

  /** Merges neighbouring runs with equal state; called by the detector when runs pile up. */
  compact(): void {
    const st = this.starts;
    const cs = this.cells;
    let w = 0;
    for (let r = 1; r < cs.length; r++) {
      if (cs[r].equals(cs[w])) continue;
      w++;
      st[w] = st[r];
      cs[w] = cs[r];
    }
    st.length = w + 1;
    cs.length = w + 1;
    this.last = 0;
    this.compactAt = Math.max(16, 2 * cs.length);
  }

  /** After splits: compacts when the runs passed the threshold. */
  maybeCompact(): void {
    if (this.cells.length > this.compactAt) this.compact();
  }

  /** The runs, for tests and debugging. */
  runs(): { start: number; end: number; cell: RaceCell }[] {
    return this.cells.map((cell, i) => ({ start: this.starts[i], end: this.end(i), cell }));
  }
}

// ───────────────────────────── threads ─────────────────────────────

/** A thread's clocks. */
class ThreadClocks {
  /** Happens-before clock. */
  readonly clock: VectorClock;
  /** What an acquire fence would acquire: the join of the sync clocks its relaxed loads read. */
  readonly fenceAcquire = new VectorClock();
  /** The clock at the last release fence: what relaxed stores and RMWs publish. */
  readonly fenceRelease = new VectorClock();
  /** The clock at termination, which `join` acquires; null while the thread runs. */
  final: VectorClock | null = null;
  /** Whether the thread was created (indices may be reserved ahead of creation). */
  created = false;
  /**
   * As a joiner, how far {@link RaceDetector.join} has checked the other threads: every thread
   * index below it except this thread's own was, when the cursor passed it, either not created or
   * ended with a final clock `≤` this thread's clock. That stays true (this clock only grows, a
   * final clock never changes) except when a passed index is created later or terminates again,
   * and then {@link RaceDetector} moves the cursor back. So each join checks only the threads
   * past the cursor, and a thread it found ordered is never checked again by the same joiner.
   */
  cursor = 0;
  /** Whether the thread is in {@link RaceDetector}'s list of joiners (it joined at least once). */
  joiner = false;

  constructor(capacity: number) {
    this.clock = new VectorClock(capacity);
  }
}

/** Options of {@link RaceDetector.allocate}. */
export interface AllocateOptions {
  /** The allocation's id, copied into races. */
  id?: number;
  /**
   * Memory that exists before every thread (statics, globals, and allocations made while only one
   * thread ran): its "creation" happens before everything, so it never races with an access.
   */
  static?: boolean;
}

/**
 * The race detector's global state: every thread's clocks and the SeqCst fence clock. The engine
 * makes one per run and calls it from the memory shims (accesses), the atomic shims, the thread
 * shims (spawn, termination, join) and the lock shims.
 *
 * Every check returns `null` (no race) or a {@link DataRace}. The location's state is updated
 * only when there is no race, so a report describes the state as it was.
 *
 * @example
 * ```ts
 * const d = new RaceDetector();
 * const x = d.allocate(4, 0, SITE_ALLOC);
 * const cpu1 = d.spawn(0);
 * d.write(x, 0, 4, cpu1, SITE_W);            // null
 * const race = d.read(x, 0, 4, 0, SITE_R);   // main never synchronised with cpu1
 * describeRace(race!, { thread: (t) => (t ? `cpu${t}` : "main"), alloc: 9 }).message;
 * // "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `main` at alloc9[0x0]"
 * ```
 */
export class RaceDetector {
  private readonly ts: ThreadClocks[] = [];
  /** Every thread clock has room for this many threads, so `clock.times[t]` is always a valid load. */
  private cap = 8;
  /** SeqCst fences release into and acquire from this clock (an RMW on one global location). */
  private readonly scFence = new VectorClock();
  /** During {@link RaceDetector.atomicLoadFrom}: the clock the load acquires instead of the location's. */
  private loadSync: VectorClock | null = null;
  /**
   * True once a second thread exists, until every other thread has ended and been joined. While it
   * is false no access can race, so the engine may skip the access checks (not the
   * synchronisation calls); allocations made meanwhile may use `static: true`.
   */
  active = false;
  /**
   * Created threads that have not terminated. A join can make the detector quiet only when at
   * most the joiner itself is among them: an O(1) test before any clock comparison.
   */
  private running = 0;
  /** Threads that joined at least once, whose {@link ThreadClocks.cursor} may need moving back. */
  private readonly joiners: number[] = [];
  /** At least every joiner's cursor: a spawn or termination of a thread at or past it moves none back. */
  private maxCursor = 0;

  /** A detector with the main thread (index 0) at time 0. */
  constructor() {
    this.thread(0).created = true;
    this.running = 1;
  }

  /** Number of thread indices in use (the highest created index + 1). */
  get threadCount(): number {
    return this.ts.length;
  }

  /** Thread `t`'s happens-before clock (read-only: copy it before keeping it). */
  clockOf(t: number): VectorClock {
    return this.thread(t).clock;
  }

  /**
   * The clock every SeqCst fence releases into and acquires from (Miri's `last_sc_fence`), for the
   * weak-memory emulation's SC rules (read-only).
   */
  scFenceClock(): VectorClock {
    return this.scFence;
  }

  /**
   * What an acquire load of `[offset, offset + size)` would acquire now: the join of the sync
   * clocks of the runs it covers (Miri's `sync_clock`). Read-only, and valid only until the next
   * atomic operation (it may be the location's own clock): the weak-memory emulation copies it
   * into a store's element when it differs from the previous store's.
   */
  atomicSync(s: AllocRaceState, offset: number, size: number): VectorClock {
    const i0 = s.find(offset);
    const end = offset + size;
    // The common case: the location is one run of its own.
    if (s.end(i0) >= end) {
      const a = s.cells[i0].atomic;
      if (a !== null) return a.sync;
    }
    const out = new VectorClock(this.cap);
    for (let i = i0; i < s.cells.length && s.starts[i] < end; i++) {
      const a = s.cells[i].atomic;
      if (a !== null) out.join(a.sync);
    }
    return out;
  }

  /**
   * An atomic load that reads an older store than the newest (weak memory): as
   * {@link RaceDetector.atomicLoad}, but it acquires `sync`, that store's clock, instead of the
   * location's current one (Miri's `validate_atomic_load` with a store element's `sync_clock`).
   */
  atomicLoadFrom(s: AllocRaceState, offset: number, size: number, ordering: AtomicOrdering, t: number, site: number, sync: VectorClock): DataRace | null {
    this.loadSync = sync;
    try {
      return this.atomicLoad(s, offset, size, ordering, t, site);
    } finally {
      this.loadSync = null;
    }
  }

  // ── threads ──

  /**
   * Thread `parent` creates a thread: the child starts with the parent's clock (everything the
   * parent did happens before the child), then both advance.
   * @param child the new thread's index (default: the next unused one). The engine passes its own
   * thread id, so the two numberings agree.
   * @returns the child's index.
   */
  spawn(parent: number, child = this.ts.length): number {
    const c = this.thread(child);
    if (c.created) throw new Error(`thread ${child} already exists`);
    c.created = true;
    if (c.final === null) this.running++;
    // An index a joiner's cursor passed while it was not created: that joiner must check it now.
    if (child < this.maxCursor) this.rewindCursors(child);
    // The child's clock is replaced, not grown: what it knew as a joiner (if anything) is void.
    c.cursor = 0;
    const p = this.thread(parent);
    c.clock.copyFrom(p.clock);
    p.clock.increment(parent);
    c.clock.increment(child);
    this.active = true;
    return child;
  }

  /** Thread `t` ends: its final clock is what a `join` acquires. */
  terminate(t: number): void {
    const s = this.thread(t);
    if (s.final === null) {
      if (s.created) this.running--;
    } else if (t < this.maxCursor) {
      // A second termination replaces the final clock by a later one: joiners that found the old
      // one ordered must compare again.
      this.rewindCursors(t);
    }
    s.final = s.clock.clone();
    s.clock.increment(t);
  }

  /**
   * Thread `joiner` joins the ended thread `joinee`: everything the joinee did happens before the
   * joiner's next event. When every other thread has ended and happens before the joiner, the
   * detector goes quiet again ({@link RaceDetector.active}).
   *
   * Cost: the clock join, O(1) when another thread still runs, else a comparison of the final
   * clocks past the joiner's cursor ({@link ThreadClocks.cursor}) — each thread's final clock is
   * found ordered at most once per joiner, so a program of N threads spawned and joined by one
   * thread makes O(N) comparisons in all, not O(N) per join.
   */
  join(joiner: number, joinee: number): void {
    const final = this.thread(joinee).final;
    if (!final) throw new Error(`join of thread ${joinee}, which has not terminated`);
    const j = this.thread(joiner);
    const clock = j.clock;
    clock.join(final);
    // Quiet needs every other created thread ended: not so while another one runs.
    if (this.running > (j.created && j.final === null ? 1 : 0)) return;
    if (!j.joiner) {
      j.joiner = true;
      this.joiners.push(joiner);
    }
    const ts = this.ts;
    const n = ts.length;
    let i = j.cursor;
    for (; i < n; i++) {
      if (i === joiner) continue;
      const s = ts[i];
      if (!s.created) continue;
      const f = s.final;
      // `f[i] > clock[i]` is the usual witness that the joiner has not joined thread i (yet): O(1).
      if (f === null || f.get(i) > clock.get(i) || !f.le(clock)) break;
    }
    j.cursor = i;
    if (i > this.maxCursor) this.maxCursor = i;
    if (i === n) this.active = false;
  }

  /** Moves back to `t` every joiner's cursor past thread `t` (which was created or re-terminated). */
  private rewindCursors(t: number): void {
    let max = 0;
    for (const k of this.joiners) {
      const s = this.ts[k];
      if (s.cursor > t) s.cursor = t;
      if (s.cursor > max) max = s.cursor;
    }
    this.maxCursor = max;
  }

  // ── locks and other synchronisation objects ──

  /**
   * A release of a lock (or any object with release/acquire semantics: a condition variable, a
   * semaphore): the lock's clock becomes the thread's, then the thread advances.
   * @param lock the lock's clock; the engine keeps one `new VectorClock()` per lock.
   */
  lockRelease(lock: VectorClock, t: number): void {
    const s = this.thread(t);
    lock.copyFrom(s.clock);
    s.clock.increment(t);
  }

  /**
   * A release that adds to what the object already holds instead of replacing it (a reader
   * releasing a read-write lock: the next writer must see every reader).
   */
  lockReleaseShared(lock: VectorClock, t: number): void {
    const s = this.thread(t);
    lock.join(s.clock);
    s.clock.increment(t);
  }

  /** An acquire of a lock: everything before its last release happens before the thread's next event. */
  lockAcquire(lock: VectorClock, t: number): void {
    this.thread(t).clock.join(lock);
  }

  // ── fences ──

  /**
   * `fence(ordering)` on thread `t`. Acquire: the thread acquires what its earlier relaxed loads
   * read. Release: its later relaxed stores publish its current clock. AcqRel: both. SeqCst: both,
   * and an RMW on one global clock, so SeqCst fences are totally ordered.
   */
  fence(ordering: FenceOrdering, t: number): void {
    if ((ordering as AtomicOrdering) === "Relaxed") throw new TypeError("there is no such thing as a relaxed fence");
    const s = this.thread(t);
    if (ordering !== "Release") s.clock.join(s.fenceAcquire);
    if (ordering === "SeqCst") {
      this.scFence.join(s.clock);
      s.clock.join(this.scFence);
    }
    if (ordering !== "Acquire") {
      s.fenceRelease.copyFrom(s.clock);
      s.clock.increment(t);
    }
  }

  // ── allocations ──

  /**
   * A new allocation of `size` bytes by thread `t` at `site`: a write of every byte ("creating a
   * new allocation"), so an access that does not happen after it races with it.
   */
  allocate(size: number, t: number, site: number, options: AllocateOptions = {}): AllocRaceState {
    const c = new RaceCell();
    if (!options.static) {
      c.wt = t;
      c.wc = this.thread(t).clock.get(t);
    }
    c.ws = site;
    c.wk = W_ALLOC;
    return new AllocRaceState(size, c, options.id);
  }

  /** Thread `t` frees the allocation: a write of every byte ("deallocation"). */
  deallocate(s: AllocRaceState, t: number, site: number): DataRace | null {
    if (s.size === 0) return null;
    return this.span(s, 0, s.size, t, site, A_NA_WRITE, W_DEALLOC, "Relaxed");
  }

  // ── non-atomic accesses (the hot path) ──

  /** A non-atomic read of `size` bytes at `offset` by thread `t`. */
  read(s: AllocRaceState, offset: number, size: number, t: number, site: number): DataRace | null {
    return this.naRead(s, offset, size, t, site, R_READ);
  }

  /** A non-atomic write of `size` bytes at `offset` by thread `t`. */
  write(s: AllocRaceState, offset: number, size: number, t: number, site: number): DataRace | null {
    return this.naWrite(s, offset, size, t, site, W_WRITE);
  }

  /** The read a Stacked Borrows retag implies (a shared reborrow, or any retag of a read-only range). */
  retagRead(s: AllocRaceState, offset: number, size: number, t: number, site: number): DataRace | null {
    return this.naRead(s, offset, size, t, site, R_RETAG);
  }

  /** The write a Stacked Borrows retag implies (a mutable reborrow). */
  retagWrite(s: AllocRaceState, offset: number, size: number, t: number, site: number): DataRace | null {
    return this.naWrite(s, offset, size, t, site, W_RETAG);
  }

  private naRead(s: AllocRaceState, off: number, size: number, t: number, site: number, rk: number): DataRace | null {
    if (size === 0) return null;
    const cells = s.cells;
    const i = cells.length === 1 ? 0 : s.find(off);
    const c = cells[i];
    const end = off + size;
    if (c.atomic === null) {
      const runEnd = i + 1 < cells.length ? s.starts[i + 1] : s.size;
      if (runEnd >= end) {
        const cc = this.ts[t].clock.times;
        const now = cc[t];
        // A read of what this thread wrote in this epoch: the write epoch already stands for it
        // (any access that would race with the read races with the write, which is reported first).
        if (c.wt === t && c.wc === now) return null;
        // FastTrack [read same epoch]: this thread already read here in this epoch; no write came
        // since (a write clears the reads), so nothing can have changed.
        const rt = c.rt;
        if (rt === t) {
          if (c.rc === now && c.rk === rk) {
            c.rs = site;
            return null;
          }
        } else if (rt === SHARED) {
          const v = c.rv!;
          if (t < v.len && v.times[t] === now && v.tags[t] === rk) {
            // (A shared vector keeps the epoch's first read site: copying it for a site costs a
            // clone per read, and a site is what a report cites, any read of the epoch will do.)
            if (!v.shared) v.sites[t] = site;
            return null;
          }
        }
        return this.readRun(s, i, c, runEnd, off, size, t, site, rk, cc, now);
      }
    }
    return this.span(s, off, size, t, site, A_NA_READ, rk, "Relaxed");
  }

  /** A read inside run `i` that is not FastTrack's same-epoch case: in place, by moving a boundary, or split. */
  private readRun(s: AllocRaceState, i: number, c: RaceCell, runEnd: number, off: number, size: number, t: number, site: number, rk: number, cc: Uint32Array, now: number): DataRace | null {
    const end = off + size;
    const cells = s.cells;
    const start = s.starts[i];
    if (start === off && runEnd === end) {
      // The access covers exactly this run: update it in place.
      if (c.wc > cc[c.wt]) return this.conflict(c, A_NA_READ, rk, off, size, t, site, s);
      this.recordRead(c, t, now, site, rk, cc);
      return null;
    }
    // Part of the run, at one of its ends, next to a run already in the state this read leaves
    // (a sequential scan): move the boundary instead of splitting.
    const rt = c.rt;
    const n = start === off && i > 0 ? cells[i - 1] : runEnd === end && i + 1 < cells.length ? cells[i + 1] : null;
    if (n !== null && n.atomic === null && n.wt === c.wt && n.wc === c.wc && n.wk === c.wk) {
      let same: boolean;
      if (rt === SHARED) {
        // A read-shared run (a table every thread reads): the neighbour holds the same reads plus
        // this one. Without this, each element read in a new epoch would split off a run with a
        // copy of the whole read vector (O(threads) each).
        same = n.rt === SHARED && n.rv!.equalsWith(c.rv!, t, now, rk);
      } else if (rt === NO_READ || rt === t || c.rc <= cc[rt]) {
        same = n.rt === t && n.rc === now && n.rk === rk;
      } else {
        // A read concurrent with the run's read epoch: the run becomes read-shared by the two.
        same = n.rt === SHARED && n.rv!.isPair(rt, c.rc, c.rk, t, now, rk);
      }
      if (same) {
        if (c.wc > cc[c.wt]) return this.conflict(c, A_NA_READ, rk, off, size, t, site, s);
        if (rt === SHARED) {
          if (!n.rv!.shared) n.rv!.sites[t] = site;
        } else n.rs = site;
        if (n === cells[i + 1]) s.starts[i + 1] = off;
        else s.starts[i] = end;
        return null;
      }
    }
    return this.span(s, off, size, t, site, A_NA_READ, rk, "Relaxed");
  }

  private naWrite(s: AllocRaceState, off: number, size: number, t: number, site: number, wk: number): DataRace | null {
    if (size === 0) return null;
    const cells = s.cells;
    const i = cells.length === 1 ? 0 : s.find(off);
    const c = cells[i];
    const end = off + size;
    if (c.atomic === null) {
      const runEnd = i + 1 < cells.length ? s.starts[i + 1] : s.size;
      if (runEnd >= end) {
        const cc = this.ts[t].clock.times;
        const now = cc[t];
        // FastTrack [write same epoch]: this thread wrote here in this epoch; any read since is its
        // own or would have raced with that write, so there is nothing to check.
        if (c.wt === t && c.wc === now && c.wk === wk) {
          c.ws = site;
          return null;
        }
        return this.writeRun(s, i, c, runEnd, off, size, t, site, wk, cc, now);
      }
    }
    return this.span(s, off, size, t, site, A_NA_WRITE, wk, "Relaxed");
  }

  /** A write inside run `i` that is not FastTrack's same-epoch case: in place, by moving a boundary, or split. */
  private writeRun(s: AllocRaceState, i: number, c: RaceCell, runEnd: number, off: number, size: number, t: number, site: number, wk: number, cc: Uint32Array, now: number): DataRace | null {
    const end = off + size;
    const cells = s.cells;
    const start = s.starts[i];
    const exact = start === off && runEnd === end;
    // Part of the run, at one of its ends, next to a run this write makes it equal to.
    const n = exact ? null : start === off && i > 0 ? cells[i - 1] : runEnd === end && i + 1 < cells.length ? cells[i + 1] : null;
    const extend = n !== null && n.wt === t && n.wc === now && n.wk === wk && n.rt === NO_READ && n.atomic === null;
    if (!exact && !extend) return this.span(s, off, size, t, site, A_NA_WRITE, wk, "Relaxed");
    // [write exclusive] / [write shared]: the last write and every read happen before us.
    if (c.wc > cc[c.wt]) return this.conflict(c, A_NA_WRITE, wk, off, size, t, site, s);
    const rt = c.rt;
    if (rt >= 0 ? c.rc > cc[rt] : rt === SHARED && !c.rv!.le(this.ts[t].clock)) {
      return this.conflict(c, A_NA_WRITE, wk, off, size, t, site, s);
    }
    if (extend) {
      n.ws = site;
      if (n === cells[i + 1]) s.starts[i + 1] = off;
      else s.starts[i] = end;
      return null;
    }
    c.wt = t;
    c.wc = now;
    c.ws = site;
    c.wk = wk;
    if (rt === SHARED) clearReads(c);
    c.rt = NO_READ;
    return null;
  }

  /** Records a non-atomic read that passed its check (FastTrack's adaptive read state). */
  private recordRead(c: RaceCell, t: number, now: number, site: number, rk: number, cc: Uint32Array): void {
    // This thread's own write in this epoch already stands for the read.
    if (c.wt === t && c.wc === now) return;
    const rt = c.rt;
    if (rt === t || rt === NO_READ || (rt >= 0 && c.rc <= cc[rt])) {
      // [read exclusive]: the previous read (if any) happens before this one, so this one stands for both.
      c.rt = t;
      c.rc = now;
      c.rs = site;
      c.rk = rk;
    } else if (rt >= 0) {
      // [read share]: two concurrent reads; switch to a vector.
      // Room for these two threads (at least 8 entries), not for every thread: the vector grows
      // on demand, and one of the whole thread capacity per read-shared location costs O(threads).
      const hi = rt > t ? rt : t;
      let v = c.rv;
      if (v === null || v.shared) v = c.rv = new SiteVector(hi < 8 ? 8 : hi + 1);
      v.set(rt, c.rc, c.rs, c.rk);
      v.set(t, now, site, rk);
      c.rt = SHARED;
    } else {
      // [read shared]
      ownReads(c).set(t, now, site, rk);
    }
  }

  // ── atomics ──

  /** An atomic load with `ordering` (Relaxed, Acquire or SeqCst) of `size` bytes at `offset`. */
  atomicLoad(s: AllocRaceState, offset: number, size: number, ordering: AtomicOrdering, t: number, site: number): DataRace | null {
    if (ordering === "Release") throw new TypeError("there is no such thing as a release load");
    if (ordering === "AcqRel") throw new TypeError("there is no such thing as an acquire-release load");
    return this.atomic(s, offset, size, t, site, A_LOAD, ordering);
  }

  /** An atomic store with `ordering` (Relaxed, Release or SeqCst). */
  atomicStore(s: AllocRaceState, offset: number, size: number, ordering: AtomicOrdering, t: number, site: number): DataRace | null {
    if (ordering === "Acquire") throw new TypeError("there is no such thing as an acquire store");
    if (ordering === "AcqRel") throw new TypeError("there is no such thing as an acquire-release store");
    return this.atomic(s, offset, size, t, site, A_STORE, ordering);
  }

  /**
   * An atomic read-modify-write with `ordering`: `swap`, `fetch_add/sub/and/or/xor/…`, and a
   * `compare_exchange(_weak)` that succeeded (with its success ordering). It continues the
   * location's release sequence.
   */
  atomicRmw(s: AllocRaceState, offset: number, size: number, ordering: AtomicOrdering, t: number, site: number): DataRace | null {
    return this.atomic(s, offset, size, t, site, A_RMW, ordering);
  }

  /**
   * `compare_exchange` / `compare_exchange_weak`: an RMW with the success ordering when it
   * succeeded, else a load with the failure ordering (Miri's model).
   */
  compareExchange(
    s: AllocRaceState,
    offset: number,
    size: number,
    succeeded: boolean,
    success: AtomicOrdering,
    failure: AtomicOrdering,
    t: number,
    site: number,
  ): DataRace | null {
    if (failure === "Release") throw new TypeError("there is no such thing as a release failure ordering");
    if (failure === "AcqRel") throw new TypeError("there is no such thing as an acquire-release failure ordering");
    return succeeded ? this.atomicRmw(s, offset, size, success, t, site) : this.atomicLoad(s, offset, size, failure, t, site);
  }

  private atomic(s: AllocRaceState, off: number, size: number, t: number, site: number, access: number, ord: AtomicOrdering): DataRace | null {
    if (size === 0) return null;
    // The common case: the atomic is one run of its own (nothing to split, nothing to merge).
    const i = s.find(off);
    const race =
      s.starts[i] === off && s.end(i) === off + size
        ? this.cellAccess(s.cells[i], off, size, t, site, access, 0, ord, s)
        : this.span(s, off, size, t, site, access, 0, ord);
    // Atomic operations conservatively release: the thread's later events get a new timestamp.
    if (race === null) this.ts[t].clock.increment(t);
    return race;
  }

  // ── the general path ──

  /**
   * The access on every run it covers, splitting runs at its edges. Checks each run before
   * changing it; stops at the first race.
   */
  private span(s: AllocRaceState, off: number, size: number, t: number, site: number, access: number, sub: number, ord: AtomicOrdering): DataRace | null {
    const end = off + size;
    s.split(off);
    s.split(end);
    let race: DataRace | null = null;
    for (let i = s.find(off); i < s.cells.length && s.starts[i] < end; i++) {
      race = this.cellAccess(s.cells[i], s.starts[i], size, t, site, access, sub, ord, s);
      if (race) break;
    }
    s.maybeCompact();
    return race;
  }

  /**
   * One access on one cell: check, then record. `access` is one of the `A_*` codes, `sub` the
   * read or write kind of a non-atomic access.
   */
  private cellAccess(c: RaceCell, off: number, size: number, t: number, site: number, access: number, sub: number, ord: AtomicOrdering, s?: AllocRaceState): DataRace | null {
    const race = this.conflict(c, access, sub, off, size, t, site, s);
    if (race) return race;
    const st = this.ts[t];
    const clock = st.clock;
    const now = clock.times[t];
    switch (access) {
      case A_NA_READ:
        this.recordRead(c, t, now, site, sub, clock.times);
        return null;
      case A_NA_WRITE:
        c.wt = t;
        c.wc = now;
        c.ws = site;
        c.wk = sub;
        if (c.rt === SHARED) clearReads(c);
        c.rt = NO_READ;
        c.atomic = null; // not an atomic location any more
        return null;
    }
    let a = c.atomic;
    if (a === null) a = c.atomic = new AtomicCell(size);
    else if (a.size !== size) {
      // The check passed: either every atomic access is ordered before us (adopt our size), or
      // this is a load ordered after every store (several load sizes: only loads may follow).
      a.size = access === A_LOAD && !(a.loads.le(clock) && a.stores.le(clock)) ? 0 : size;
    }
    if (access === A_LOAD || access === A_RMW) {
      a.loads.set(t, now, site);
      const acquire = ord === "Acquire" || ord === "AcqRel" || ord === "SeqCst";
      // (A weak-memory load of an older store acquires that store's clock: atomicLoadFrom.)
      const sync = this.loadSync ?? a.sync;
      if (acquire) clock.join(sync);
      else st.fenceAcquire.join(sync);
    }
    if (access === A_STORE || access === A_RMW) {
      a.stores.set(t, now, site);
      const release = ord === "Release" || ord === "AcqRel" || ord === "SeqCst";
      if (access === A_STORE) a.sync.copyFrom(release ? clock : st.fenceRelease);
      // An RMW joins: future acquirers get this clock and the release sequence it continues.
      else a.sync.join(release ? clock : st.fenceRelease);
    }
    return null;
  }

  /**
   * Whether the access races with the cell's history, and with what: checks in Miri's order of
   * diagnosis (atomic store, atomic load, non-atomic write, non-atomic read, mixed size).
   * @returns the race, or null when the access happens after everything it must.
   */
  private conflict(c: RaceCell, access: number, sub: number, off: number, size: number, t: number, site: number, s?: AllocRaceState): DataRace | null {
    const clock = this.ts[t].clock;
    const a = c.atomic;
    const atomicAccess = access >= A_LOAD;
    const isRead = access === A_NA_READ || access === A_LOAD;
    let kind1: RaceAccessKind | undefined;
    let thread1 = -1;
    let site1 = -1;
    let mixed = false;
    let size1 = 0;
    let i: number;
    if (!atomicAccess && a && (i = a.stores.firstGreater(clock)) >= 0) {
      kind1 = "atomic store";
      thread1 = i;
      site1 = a.stores.sites[i];
    } else if (!atomicAccess && !isRead && a && (i = a.loads.firstGreater(clock)) >= 0) {
      kind1 = "atomic load";
      thread1 = i;
      site1 = a.loads.sites[i];
    } else if (c.wc > clock.get(c.wt)) {
      kind1 = WRITE_KINDS[c.wk];
      thread1 = c.wt;
      site1 = c.ws;
    } else if (!isRead && c.rt >= 0 && c.rc > clock.get(c.rt)) {
      kind1 = READ_KINDS[c.rk];
      thread1 = c.rt;
      site1 = c.rs;
    } else if (!isRead && c.rt === SHARED && (i = c.rv!.firstGreater(clock)) >= 0) {
      kind1 = READ_KINDS[c.rv!.tags[i]];
      thread1 = i;
      site1 = c.rv!.sites[i];
    } else if (atomicAccess && a && a.size !== size) {
      if ((i = a.stores.firstGreater(clock)) >= 0) {
        kind1 = "atomic store";
        thread1 = i;
        site1 = a.stores.sites[i];
      } else if (access !== A_LOAD && (i = a.loads.firstGreater(clock)) >= 0) {
        kind1 = "atomic load";
        thread1 = i;
        site1 = a.loads.sites[i];
      }
      mixed = true;
      size1 = a.size;
    }
    if (kind1 === undefined) return null;
    const race: DataRace = {
      kind1,
      thread1,
      site1,
      kind2: accessKind(access, sub),
      thread2: t,
      site2: site,
      offset: off,
      size,
    };
    if (s?.id !== undefined) race.alloc = s.id;
    if (mixed) {
      race.mixedSize = true;
      race.size1 = size1;
    }
    return race;
  }

  // ── cell-level API (for an engine that keeps cells in its own range map) ──

  /**
   * A fresh cell for a new allocation by thread `t` (or, with `static`, memory that exists before
   * every thread): what {@link RaceDetector.allocate} puts in every byte.
   */
  newCell(t: number, site: number, isStatic = false): RaceCell {
    const c = new RaceCell();
    if (!isStatic) {
      c.wt = t;
      c.wc = this.thread(t).clock.get(t);
    }
    c.ws = site;
    return c;
  }

  /**
   * One access on one cell, for an engine that keeps {@link RaceCell}s in its own range map: call
   * it on every run the access covers (after splitting at the access's edges), with `offset` the
   * run's start, and stop at the first race. For an atomic access, call
   * {@link RaceDetector.atomicDone} once after all runs.
   * @param kind the access, as {@link RaceAccessKind} (`"atomic load"`, `"non-atomic write"`, …).
   */
  accessCell(c: RaceCell, kind: RaceAccessKind, ordering: AtomicOrdering, offset: number, size: number, t: number, site: number): DataRace | null {
    const [access, sub] = accessCode(kind);
    return this.cellAccess(c, offset, size, t, site, access, sub, ordering);
  }

  /** After an atomic access done with {@link RaceDetector.accessCell}: the thread's next events get a new timestamp. */
  atomicDone(t: number): void {
    this.thread(t).clock.increment(t);
  }

  // ── internals ──

  private thread(t: number): ThreadClocks {
    if (!(t >= 0) || !Number.isInteger(t)) throw new RangeError(`invalid thread index ${t}`);
    const ts = this.ts;
    if (t >= ts.length) {
      if (t >= this.cap) {
        while (this.cap <= t) this.cap *= 2;
        for (const s of ts) s.clock.reserve(this.cap);
      }
      while (ts.length <= t) ts.push(new ThreadClocks(this.cap));
    }
    return ts[t];
  }
}

function accessKind(access: number, sub: number): RaceAccessKind {
  switch (access) {
    case A_NA_READ:
      return READ_KINDS[sub];
    case A_NA_WRITE:
      return WRITE_KINDS[sub];
    case A_LOAD:
      return "atomic load";
    case A_STORE:
      return "atomic store";
    default:
      return "atomic read-modify-write";
  }
}

function accessCode(kind: RaceAccessKind): [number, number] {
  switch (kind) {
    case "non-atomic read":
      return [A_NA_READ, R_READ];
    case "retag read":
      return [A_NA_READ, R_RETAG];
    case "creating a new allocation":
      return [A_NA_WRITE, W_ALLOC];
    case "non-atomic write":
      return [A_NA_WRITE, W_WRITE];
    case "retag write":
      return [A_NA_WRITE, W_RETAG];
    case "deallocation":
      return [A_NA_WRITE, W_DEALLOC];
    case "atomic load":
      return [A_LOAD, 0];
    case "atomic store":
      return [A_STORE, 0];
    case "atomic read-modify-write":
      return [A_RMW, 0];
  }
}

// ───────────────────────────── wording ─────────────────────────────

const UB_HELP = [
  "this indicates a bug in the program: it performed an invalid operation, and caused Undefined Behavior",
  "see https://doc.rust-lang.org/nightly/reference/behavior-considered-undefined.html for further information",
];

/**
 * Words a race as Miri does.
 *
 * @example
 * ```ts
 * describeRace(race, { thread: (t) => names[t], alloc: 9 }).message
 * // "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `cpu2` at alloc9[0x4]"
 * // mixed-size: "Race condition detected between (1) 2-byte atomic store on thread `cpu1` and (2) 1-byte atomic store on thread `cpu2` at alloc3[0x0]"
 * ```
 */
export function describeRace(race: DataRace, names: RaceNames): RaceDescription {
  const atomic1 = race.kind1.startsWith("atomic");
  const atomic2 = race.kind2.startsWith("atomic");
  const involvesNonAtomic = !atomic1 || !atomic2;
  let op1: string = race.kind1;
  let op2: string = race.kind2;
  if (race.mixedSize) {
    op1 = race.size1 ? `${race.size1}-byte ${race.kind1}` : "multiple differently-sized atomic loads, including one load";
    op2 = `${race.size}-byte ${race.kind2}`;
  }
  const allocName = names.alloc ?? race.alloc;
  const alloc = allocName === undefined ? "alloc?" : typeof allocName === "number" ? `alloc${allocName}` : allocName;
  const message =
    `${involvesNonAtomic ? "Data race" : "Race condition"} detected between (1) ${op1} on thread \`${names.thread(race.thread1)}\` ` +
    `and (2) ${op2} on thread \`${names.thread(race.thread2)}\` at ${alloc}[0x${race.offset.toString(16)}]`;
  const help: { message: string; site?: number }[] = [{ message: "and (1) occurred earlier here", site: race.site1 }];
  if (race.mixedSize) {
    help.push({ message: "overlapping unsynchronized atomic accesses must use the same access size" });
    help.push({
      message:
        "see https://doc.rust-lang.org/nightly/std/sync/atomic/index.html#memory-model-for-atomic-accesses for more information about the Rust memory model",
    });
  }
  if (race.kind1.startsWith("retag") || race.kind2.startsWith("retag")) {
    help.push({ message: "retags occur on all (re)borrows and as well as when references are copied or moved" });
    help.push({ message: "retags permit optimizations that insert speculative reads or writes" });
    help.push({ message: "therefore from the perspective of data races, a retag has the same implications as a read or write" });
  }
  for (const m of UB_HELP) help.push({ message: m });
  return { kind: "data-race", title: "Undefined Behavior", message, label: "(2) just happened here", help };
}
