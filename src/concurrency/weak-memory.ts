/**
 * Weak memory: store buffers per atomic location, so that an atomic load may return a value older
 * than the latest store — the C++11/Rust memory model's "weak behaviours" (store buffering,
 * message passing through a relaxed flag seeing a stale payload) that a run where every load sees
 * the latest store can never show.
 *
 * This follows Miri's emulation (`src/concurrency/weak_memory.rs`), itself the operational model
 * of Lidbury & Donaldson, "Dynamic Race Detection for C++11" (POPL 2017) with tsan11's
 * corrections and Miri's C++20 adjustments. It never produces a behaviour the model forbids, and
 * does not produce every behaviour the model allows (a load only picks among stores that already
 * happened; no load is ever satisfied by a store that comes later in the run).
 *
 * ## The model
 *
 * A *store buffer* belongs to one atomic location (an offset and a size inside an allocation):
 * the stores to it in modification order, at most {@link STORE_BUFFER_LIMIT} (Miri keeps 128; the
 * oldest are forgotten). It is made on the first atomic store or read-modify-write to the
 * location while the race detector is active, holding first an *initial element* with what the
 * memory held before (a non-atomic initialisation: it acquires nothing). Each {@link StoreElement}
 * keeps the storing thread and its timestamp, the value, the clock an acquire load of it
 * acquires, whether it counts as SeqCst, and which threads loaded it first when, and whether an
 * SC load saw it.
 *
 * A load picks, at random from the run's seed, one of the *candidates*: walking from the newest
 * element back, each element is a candidate, and the walk stops after the first element that
 * - happens before the load (CoWR: nothing older may be read),
 * - was loaded by a load that happens before this one (CoRR),
 * - is SeqCst and was stored before the last SC fence of the loading thread (its `writeSeqCst`
 *   clock: an SC fence bounds what every later load may read),
 * - for an SC load: was stored before the last SC fence anyone made that this thread knows of
 *   (its `readSeqCst` clock), or was already seen by an SC load (`scLoaded`, Miri's C++20 rule:
 *   SC loads may not read backwards in modification order);
 * and an SC load sees, of the candidates marked SeqCst, only the newest. A read-modify-write
 * always reads the newest element; a failed compare-exchange is a load of the newest element. An
 * SC store marks SeqCst every element that happens before it, or whose load happens before it.
 *
 * A non-atomic write overlapping a buffer deletes it (the detector has proved every earlier store
 * happens before the write, so the location behaves like a fresh one); an atomic store or RMW
 * whose range overlaps a buffer without matching it exactly (a mixed-size access) replaces it by
 * a fresh buffer, and a mixed-size load reads the memory, as Miri does.
 *
 * ## Epochs of the detector
 *
 * kmiri's detector goes quiet when every thread but one has ended and been joined; the engine
 * then skips every check, so non-atomic writes and single-threaded stores are not seen here. Then
 * every buffered store happens before everything that follows, so the buffers carry nothing a load
 * could still read but the latest value, which the memory holds: {@link WeakMemory.newEpoch}
 * (called when the detector wakes up again) makes every buffer start afresh on its next use.
 *
 * ## Timestamps
 *
 * The detector gives every atomic operation its own epoch of the acting thread (it advances the
 * thread's clock right after the operation), and a thread's epoch `e` becomes known to another
 * thread only through an operation that ends that epoch or a later one. So this module records
 * the epoch of the operation itself (`clock[t]` before the detector advances it) as a store's or a
 * load's timestamp, and `time ≤ clock[thread]` means "happens before".
 *
 * Values are opaque here: the engine stores whatever it will hand back (a number, a bigint, a
 * pointer with its provenance, or a marker of its own for uninitialised bytes).
 *
 * @example
 * ```ts
 * const det = new RaceDetector();
 * const wm = new WeakMemory(det, new Xoshiro128(deriveSeed(seed, "weak_memory")));
 * const bufs = wm.newAllocBuffers();
 * // a Relaxed store of 1 by thread 1 (epoch 3) over memory holding 0:
 * wm.store(bufs, 0, 8, 1, 3, false, 1, 0, syncClockAfterTheStore);
 * const e = wm.load(bufs, 0, 8, 2, false); // thread 2: the element of 1, or the initial 0
 * ```
 *
 * @module
 */
import { VectorClock } from "./vector-clock.js";

/** Most stores a buffer keeps (Miri's `STORE_BUFFER_LIMIT`, after the paper's authors). */
export const STORE_BUFFER_LIMIT = 128;

/** What the weak-memory emulation needs of the race detector: the threads' clocks. */
export interface WeakMemoryClocks {
  /** Thread `t`'s happens-before clock (read, never kept). */
  clockOf(t: number): VectorClock;
  /** The clock every SC fence releases into (Miri's `last_sc_fence`). */
  scFenceClock(): VectorClock;
}

/** A source of uniform choices (kmiri's {@link Xoshiro128} is one). */
export interface WeakMemoryRng {
  /** A uniform integer in [0, n). */
  below(n: number): number;
}

/** An empty clock: what the initial element of a buffer releases (nothing). */
const NOTHING = new VectorClock(1);

/** One store to a location, in a {@link StoreBuffer}. */
export class StoreElement {
  /** The first thread that loaded this store (-1: none yet); its first load's timestamp is {@link StoreElement.firstTime}. */
  private firstThread = -1;
  private firstTime = 0;
  /** The other threads that loaded it, as (thread, timestamp of its first load) pairs; `null` while there are none. */
  private others: number[] | null = null;
  /** Whether an SC load read this store (SC loads then cannot read an older one). */
  scLoaded = false;

  /**
   * @param thread the storing thread.
   * @param time the storing thread's timestamp at the store (0 for a buffer's initial element).
   * @param value the value stored (opaque).
   * @param seqcst whether the store counts as SeqCst (also set later by SC stores it precedes).
   * @param sync what an acquire load of this store acquires (never changed: it may be shared
   * with the elements before it when it is equal).
   */
  constructor(
    readonly thread: number,
    readonly time: number,
    readonly value: unknown,
    public seqcst: boolean,
    readonly sync: VectorClock,
  ) {}

  /** Whether a load of this store happens before the event of a thread whose clock is `clock`. */
  loadedBefore(clock: VectorClock): boolean {
    const f = this.firstThread;
    if (f < 0) return false;
    if (this.firstTime <= clock.get(f)) return true;
    const o = this.others;
    if (o === null) return false;
    for (let i = 0; i < o.length; i += 2) if (o[i + 1] <= clock.get(o[i])) return true;
    return false;
  }

  /** Records a load by thread `t` at `time` (only each thread's first load counts, as in tsan11 and Miri). */
  recordLoad(t: number, time: number, seqcst: boolean): void {
    if (seqcst) this.scLoaded = true;
    const f = this.firstThread;
    if (f === t) return;
    if (f < 0) {
      this.firstThread = t;
      this.firstTime = time;
      return;
    }
    let o = this.others;
    if (o === null) o = this.others = [];
    for (let i = 0; i < o.length; i += 2) if (o[i] === t) return;
    o.push(t, time);
  }

  /** The threads that loaded this store, with the timestamp of each one's first load (for tests and debugging). */
  loads(): { thread: number; time: number }[] {
    const out: { thread: number; time: number }[] = [];
    if (this.firstThread >= 0) out.push({ thread: this.firstThread, time: this.firstTime });
    const o = this.others ?? [];
    for (let i = 0; i < o.length; i += 2) out.push({ thread: o[i], time: o[i + 1] });
    return out;
  }
}

/** The stores to one atomic location, oldest first (modification order). */
export class StoreBuffer {
  /**
   * The elements, oldest first, from index {@link StoreBuffer.head} on (the entries before it
   * were dropped: the buffer is bounded, and dropping from the front is done in batches); never
   * empty.
   */
  readonly elements: StoreElement[];
  /** Index of the oldest element kept in {@link StoreBuffer.elements}. */
  head = 0;

  /**
   * @param offset the location's offset in its allocation.
   * @param size the location's size in bytes.
   * @param init what the memory held when the buffer was made (the initial element's value).
   */
  constructor(
    readonly offset: number,
    readonly size: number,
    init: unknown,
  ) {
    this.elements = [new StoreElement(0, 0, init, false, NOTHING)];
  }

  /** The newest store. */
  get latest(): StoreElement {
    return this.elements[this.elements.length - 1];
  }

  /** How many stores the buffer holds. */
  get length(): number {
    return this.elements.length - this.head;
  }

  /** The stores it holds, oldest first (a copy, for tests and debugging). */
  stores(): StoreElement[] {
    return this.elements.slice(this.head);
  }
}

/** The store buffers of one allocation, sorted by offset, never overlapping. */
export class AllocStoreBuffers {
  /** The buffers, by increasing offset. */
  readonly buffers: StoreBuffer[] = [];
  /** The {@link WeakMemory.generation} the buffers belong to (older ones are void). */
  generation: number;

  /** @param generation the current {@link WeakMemory.generation}. */
  constructor(generation: number) {
    this.generation = generation;
  }

  /** The buffer at exactly `[offset, offset + size)`, or `null`. */
  exact(offset: number, size: number): StoreBuffer | null {
    const bs = this.buffers;
    for (let i = 0; i < bs.length; i++) {
      const b = bs[i];
      if (b.offset === offset) return b.size === size ? b : null;
      if (b.offset > offset) return null;
    }
    return null;
  }

  /** Deletes every buffer overlapping `[offset, offset + size)`; the index where one would go. */
  remove(offset: number, size: number): number {
    const bs = this.buffers;
    const end = offset + size;
    let i = 0;
    while (i < bs.length && bs[i].offset + bs[i].size <= offset) i++;
    let j = i;
    while (j < bs.length && bs[j].offset < end) j++;
    if (j > i) bs.splice(i, j - i);
    return i;
  }
}

/**
 * The weak-memory emulation of one run: the SC clocks of every thread, the choice of the store a
 * load reads, and the updates of the buffers. Engine-free: the engine keeps an
 * {@link AllocStoreBuffers} per allocation (made by {@link WeakMemory.newAllocBuffers}) and calls
 * {@link WeakMemory.load}, {@link WeakMemory.store}, {@link WeakMemory.rmw},
 * {@link WeakMemory.loadLatest} and {@link WeakMemory.nonAtomicWrite} around the race detector's
 * own calls, and {@link WeakMemory.scFence} on every SeqCst fence.
 */
export class WeakMemory {
  /** Bumped by {@link newEpoch}: buffers made in an older generation are void. */
  generation = 0;
  /** Per thread: the last SC store of each thread, as known at the thread's last SC fence (Miri's `write_seqcst`). */
  private readonly writeSc: VectorClock[] = [];
  /** Per thread: the SC fence clock as of the thread's last SC load (Miri's `read_seqcst`). */
  private readonly readSc: VectorClock[] = [];
  /** The timestamp of each thread's last SC store (Miri's `last_sc_write_per_thread`). */
  private readonly lastScWrite = new VectorClock();
  /** Whether the last {@link load} returned an older store than the newest. */
  outdated = false;
  /**
   * Per thread: what it has seen without a happens-before edge ({@link observe}): stores it may
   * not read past, as if they happened before it (CoWR, CoRR). `undefined`: nothing.
   */
  private readonly seen: (VectorClock | undefined)[] = [];

  /**
   * Thread `t` has seen everything of `clock` in coherence order — a CPU sees its own stores, so
   * code resumed after an interrupt handler on its CPU cannot read a store older than one the
   * handler made or read, and the handler sees the code it interrupted — without a happens-before
   * edge (for the race detector the two stay concurrent, as Mirch's contract says).
   */
  observe(t: number, clock: VectorClock): void {
    (this.seen[t] ??= new VectorClock()).join(clock);
  }

  /**
   * @param clocks the race detector's clocks (a {@link RaceDetector} fits).
   * @param rng the run's stream for the choices of loads (kmiri: `deriveSeed(seed, "weak_memory")`).
   */
  constructor(
    private readonly clocks: WeakMemoryClocks,
    private readonly rng: WeakMemoryRng,
  ) {}

  /** A new allocation's (empty) set of buffers. */
  newAllocBuffers(): AllocStoreBuffers {
    return new AllocStoreBuffers(this.generation);
  }

  /**
   * Every store so far happens before every later event (the detector went quiet and wakes up
   * again): each buffer starts afresh from the memory's value on its next use.
   */
  newEpoch(): void {
    this.generation++;
  }

  /** `bufs`, emptied first if it belongs to an older generation. */
  private current(bufs: AllocStoreBuffers): AllocStoreBuffers {
    if (bufs.generation !== this.generation) {
      bufs.buffers.length = 0;
      bufs.generation = this.generation;
    }
    return bufs;
  }

  private writeScOf(t: number): VectorClock {
    return (this.writeSc[t] ??= new VectorClock());
  }

  private readScOf(t: number): VectorClock {
    return (this.readSc[t] ??= new VectorClock());
  }

  /** Miri's `sc_read`: an SC load (or RMW) learns every SC fence so far. */
  private scRead(t: number): void {
    this.readScOf(t).join(this.clocks.scFenceClock());
  }

  /** Miri's `sc_write`: thread `t`'s last SC store was at `time`. */
  private scWrite(t: number, time: number): void {
    this.lastScWrite.set(t, time);
  }

  /**
   * A SeqCst fence by thread `t` (call it after the detector's fence): later loads of the thread
   * cannot read a store older than the last SC store each thread made before it (Miri's
   * `write_seqcst.join(last_sc_write_per_thread)`).
   */
  scFence(t: number): void {
    this.writeScOf(t).join(this.lastScWrite);
  }

  /**
   * The store an atomic load of `[offset, offset + size)` by thread `t` reads (call it *before*
   * the detector's load, which must acquire the element's {@link StoreElement.sync}), or `null`
   * when the location has no buffer (no atomic store since the detector woke up, or a mixed-size
   * load): then the load reads the memory. {@link outdated} tells whether the element is not
   * the newest. Record the load with {@link loaded} afterwards.
   * @param bufs the allocation's buffers (`null`: none yet).
   * @param seqcst an SC load.
   */
  load(bufs: AllocStoreBuffers | null, offset: number, size: number, t: number, seqcst: boolean): StoreElement | null {
    if (seqcst) this.scRead(t);
    const b = bufs === null ? null : this.current(bufs).exact(offset, size);
    if (b === null) {
      this.outdated = false;
      return null;
    }
    const chosen = this.pick(b, t, seqcst);
    this.outdated = chosen !== b.latest;
    return chosen;
  }

  /** Records that thread `t` loaded `e` at `time` (the load's epoch). */
  loaded(e: StoreElement, t: number, time: number, seqcst: boolean): void {
    e.recordLoad(t, time, seqcst);
  }

  /** The candidates a load may read (Miri's `fetch_store`), one chosen at random. */
  private pick(b: StoreBuffer, t: number, seqcst: boolean): StoreElement {
    const es = b.elements;
    const n = es.length;
    const head = b.head;
    if (n - head === 1) return es[head];
    const clock = this.clocks.clockOf(t);
    const seen = this.seen[t];
    const writeSc = this.writeSc[t];
    const readSc = seqcst ? this.readSc[t] : undefined;
    // Walk newest to oldest; `stop` is the index of the last (oldest) candidate.
    let stop = head;
    for (let i = n - 1; i > head; i--) {
      const e = es[i];
      if (
        // CoWR: the store happens before the load; nothing older in modification order is visible.
        e.time <= clock.get(e.thread) ||
        // CoRR: a load of this store happens before this load.
        e.loadedBefore(clock) ||
        // The same, for what the thread has seen without a happens-before edge (observe).
        (seen !== undefined && (e.time <= seen.get(e.thread) || e.loadedBefore(seen))) ||
        // An SC store before this thread's last SC fence bounds every later load of it.
        (e.seqcst && writeSc !== undefined && e.time <= writeSc.get(e.thread)) ||
        // An SC load cannot read past a store made before an SC fence it knows of ...
        (readSc !== undefined && e.time <= readSc.get(e.thread)) ||
        // ... nor past a store an earlier SC load saw (coherence-ordered before, C++20).
        (seqcst && e.scLoaded)
      ) {
        stop = i;
        break;
      }
    }
    if (stop === n - 1 && !seqcst) return es[stop];
    // The candidates are es[stop..n). An SC load sees only the newest SC-marked one among them.
    let count = 0;
    let foundSc = false;
    for (let i = n - 1; i >= stop; i--) {
      const e = es[i];
      if (seqcst && e.seqcst) {
        if (foundSc) continue;
        foundSc = true;
      }
      count++;
    }
    // The newest element is always a candidate.
    if (count === 1) return es[n - 1];
    let k = this.rng.below(count);
    foundSc = false;
    for (let i = n - 1; i >= stop; i--) {
      const e = es[i];
      if (seqcst && e.seqcst) {
        if (foundSc) continue;
        foundSc = true;
      }
      if (k-- === 0) return e;
    }
    return es[n - 1]; // (unreachable)
  }

  /**
   * The buffer of `[offset, offset + size)` to store into: the existing one, or a fresh one with
   * `init` as its initial element (replacing any buffer it overlaps: a mixed-size store).
   */
  private bufferFor(bufs: AllocStoreBuffers, offset: number, size: number, init: unknown): StoreBuffer {
    bufs = this.current(bufs);
    const b = bufs.exact(offset, size);
    if (b !== null) return b;
    const at = bufs.remove(offset, size);
    const fresh = new StoreBuffer(offset, size, init);
    bufs.buffers.splice(at, 0, fresh);
    return fresh;
  }

  /**
   * An atomic store by thread `t` (call it *after* the detector's store, so that `sync` is the
   * location's clock after it).
   * @param time the store's epoch (the thread's own clock entry before the detector advanced it).
   * @param seqcst a SeqCst store.
   * @param value the value stored.
   * @param init what the memory held before this store (used only when the buffer is new).
   * @param sync what an acquire load of this store acquires (read now and copied when kept: the
   * detector's own clock may be passed).
   */
  store(bufs: AllocStoreBuffers, offset: number, size: number, t: number, time: number, seqcst: boolean, value: unknown, init: unknown, sync: VectorClock): void {
    if (seqcst) this.scWrite(t, time);
    this.push(this.bufferFor(bufs, offset, size, init), t, time, seqcst, value, sync);
  }

  /**
   * An atomic read-modify-write (or successful compare-exchange) by thread `t`, which reads the
   * newest store and adds its own (call it after the detector's RMW).
   * @param old the value read (the memory's: the initial element when the buffer is new).
   * @param sync as for {@link WeakMemory.store}.
   */
  rmw(bufs: AllocStoreBuffers, offset: number, size: number, t: number, time: number, seqcst: boolean, value: unknown, old: unknown, sync: VectorClock): void {
    if (seqcst) {
      this.scRead(t);
      this.scWrite(t, time);
    }
    const b = this.bufferFor(bufs, offset, size, old);
    b.latest.recordLoad(t, time, seqcst);
    this.push(b, t, time, seqcst, value, sync);
  }

  /**
   * A failed compare-exchange by thread `t`: a load of the newest store (Miri's
   * `perform_read_on_buffered_latest`); `bufs` may be `null` (no buffer yet).
   */
  loadLatest(bufs: AllocStoreBuffers | null, offset: number, size: number, t: number, time: number, seqcst: boolean): void {
    if (seqcst) this.scRead(t);
    const b = bufs === null ? null : this.current(bufs).exact(offset, size);
    if (b !== null) b.latest.recordLoad(t, time, seqcst);
  }

  /** A non-atomic write (or deallocation) of `[offset, offset + size)`: the buffers it overlaps are gone. */
  nonAtomicWrite(bufs: AllocStoreBuffers, offset: number, size: number): void {
    if (bufs.buffers.length !== 0) this.current(bufs).remove(offset, size);
  }

  /** Miri's `store_impl`: appends the store, bounded, and lets an SC store mark what precedes it. */
  private push(b: StoreBuffer, t: number, time: number, seqcst: boolean, value: unknown, sync: VectorClock): void {
    const es = b.elements;
    // Share the clock of the store before when it is the same (a relaxed store or RMW without a
    // release fence changes nothing): most stores then keep no clock of their own.
    const prev = es[es.length - 1].sync;
    es.push(new StoreElement(t, time, value, seqcst, prev.equals(sync) ? prev : sync.clone()));
    if (es.length - b.head > STORE_BUFFER_LIMIT) {
      // Forget the oldest; the array is compacted once per STORE_BUFFER_LIMIT drops.
      es[b.head++] = undefined as unknown as StoreElement;
      if (b.head >= STORE_BUFFER_LIMIT) {
        es.splice(0, b.head);
        b.head = 0;
      }
    }
    if (!seqcst) return;
    // Every store that happens before this SC store, or whose load does, precedes it in the
    // order S of SC operations: an SC load may then read only the newest of them.
    const clock = this.clocks.clockOf(t);
    for (let i = es.length - 2; i >= b.head; i--) {
      const e = es[i];
      if (!e.seqcst && (e.time <= clock.get(e.thread) || e.loadedBefore(clock))) e.seqcst = true;
    }
  }
}
