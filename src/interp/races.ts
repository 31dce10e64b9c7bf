/**
 * The race detector wired into the engine: {@link MachineRaces} is the memory's race hook
 * (memory/seam.ts) and the checked runtime's entry to the detector for atomics, fences and
 * retags; {@link RaceDetector} (src/concurrency/data-race.ts) knows nothing of the engine.
 *
 * - **Context.** The Machine tells it the running thread ({@link MachineRaces.setThread}) when it
 *   switches threads. The access path tests `active` — false while only one thread exists, or
 *   once every other thread ended and was joined — and skips everything else then, so a
 *   single-threaded program pays two property loads per access.
 * - **Race state per allocation** (the allocation's `race` slot): made when the allocation is
 *   (heap, `Box`, static, local, `realloc`'s new block) while the detector is active, as a write
 *   of every byte by the allocating thread ("creating a new allocation"); an allocation made while
 *   it was not gets its state on its first access in a multi-threaded phase, as memory that
 *   existed before every thread (`static`): its creation happens before any thread that can touch it.
 * - **Weak memory** ({@link WeakMemory}, src/concurrency/weak-memory.ts): while the detector is
 *   active, atomic stores and RMWs go into per-location store buffers (kept in the allocation's
 *   race state, `AllocRaceState.weak`) and an atomic load may return an older store's value,
 *   acquiring that store's clock. Made when the detector first wakes up (never in a
 *   single-threaded run), drawing from its own stream of the seed, `deriveSeed(seed,
 *   "weak_memory")`, so the schedule and the other streams do not shift; each later wake-up starts
 *   a new epoch (every store so far happens before what follows). Off with `weakMemory: false`, or
 *   with the detector (`dataRaceDetector: false`), as in Miri.
 * - **Sites** are interned stacks (a trie of call-site entries), so a race report shows the whole
 *   backtrace of the earlier access, not only its line. Each thread keeps the trie path of its
 *   last stack; an access compares its stack with it (a few integer compares for the usual
 *   shallow stack) and interns only the frames that changed.
 *
 * @module
 */
import { FRAME_MARK, SITE_MASK } from "./compile/instrument.js";
import {
  RaceDetector,
  WeakMemory,
  Xoshiro128,
  deriveSeed,
  describeRace,
  type AllocRaceState,
  type AllocStoreBuffers,
  type AtomicOrdering,
  type DataRace,
  type FenceOrdering,
} from "../concurrency/index.js";
import type { Frame, ReportOptions, SourceLocation } from "./report.js";
import type { AtomicAccessKind, MemoryOrdering, RaceHook, SeamAllocation } from "./memory/seam.js";

/** A site table: function names and locations by site id. */
export interface SiteTable {
  readonly fn: readonly string[];
  location(site: number): SourceLocation;
}

/** What the race glue needs of the Machine. */
export interface RaceHost {
  /** The running thread's stack of call-site entries, and its depth. */
  readonly s: Int32Array;
  readonly sp: number;
  /** The name of thread `t` (`main`, `cpu1`, …). */
  threadNameOf(t: number): string;
  /** The program's sites. */
  readonly sites: SiteTable;
  /** Stops the run with a finding at the current site (throws). */
  report(kind: "data-race", message: string, options: ReportOptions): never;
  /** The run's seed: the weak-memory emulation draws from `deriveSeed(seed, "weak_memory")`. */
  readonly seed: number;
  /** The run's options: `weakMemory: false` turns the weak-memory emulation off. */
  readonly config: { readonly weakMemory?: boolean };
}

/** The data-race detector of one Machine, as its memory and its checked runtime call it. */
/**
 * Memory whose accesses are never data races, so the detector does not track it: Mirch's untyped
 * physical memory (shared with devices and users by design, mirch.d.ts) and device registers
 * (an MMIO access is a message to the device, not a memory access; Mirch stages it in an `mmio`
 * scratch allocation).
 */
function untracked(a: SeamAllocation): boolean {
  return a.kind === "untyped" || a.kind === "mmio";
}

export class MachineRaces implements RaceHook {
  /** The detector (vector clocks). Thread ids are the Machine's: `main` 0, spawned threads in creation order. */
  readonly detector: RaceDetector;
  /** Interned call stacks: the sites the race detector and lockdep record. */
  readonly stacks: StackInterner;
  /** The running thread's id (the detector's thread index). */
  private tid = 0;
  /** The running thread's memo of its last interned stack (in {@link stacks}). */
  private memo: StackMemo;

  constructor(
    private readonly host: RaceHost,
    detector: RaceDetector = new RaceDetector(),
    stacks: StackInterner = new StackInterner(),
  ) {
    this.detector = detector;
    this.stacks = stacks;
    this.memo = stacks.memoOf(0);
  }

  /**
   * True while accesses must be checked: the detector is active (several threads exist) and not
   * switched off. A plain field, read on every memory access (a getter costs the hot loop about
   * 15%): kept in step with the detector by {@link spawn}, {@link join} and {@link stop}, the only
   * calls that change the detector's own flag.
   */
  active = false;
  /** False once switched off (`dataRaceDetector: false`): `active` stays false. */
  private enabled = true;
  /**
   * The weak-memory emulation: made when the detector first becomes active, unless the run's
   * options turn it off; `null` until then (and for good when off).
   */
  weak: WeakMemory | null = null;
  /** Per thread: its last atomic load read an older store than the newest (a `spin_loop` then only yields). */
  private readonly outdated: boolean[] = [];

  // ── threads: the detector's synchronisation edges, with `active` kept in step ──

  /** Thread `parent` creates thread `child`: everything the parent did happens before the child. */
  spawn(parent: number, child: number): void {
    const was = this.active;
    this.detector.spawn(parent, child);
    this.active = this.enabled && this.detector.active;
    if (!was && this.active) this.wake();
  }

  /**
   * The detector wakes up (the first spawn, or a spawn after every other thread was joined): the
   * weak-memory emulation starts, or starts a new epoch — while the detector slept, nothing was
   * buffered and non-atomic writes went unseen, but every store so far happens before what follows.
   */
  private wake(): void {
    if (this.weak !== null) this.weak.newEpoch();
    else if (this.host.config.weakMemory !== false) {
      this.weak = new WeakMemory(this.detector, new Xoshiro128(deriveSeed(this.host.seed, "weak_memory")));
    }
  }

  /**
   * True (once) when the running thread's last atomic load read an older store than the newest:
   * a `spin_loop` after it must not wait for progress, since a retry may read a newer store
   * without any other thread's help (as after a spurious `compare_exchange_weak` failure).
   */
  takeOutdatedLoad(): boolean {
    const t = this.tid;
    if (this.outdated[t] !== true) return false;
    this.outdated[t] = false;
    return true;
  }

  /** Thread `t` ends: its final clock is what a `join` of it acquires. */
  terminate(t: number): void {
    this.detector.terminate(t);
  }

  /** Thread `joiner` joins the ended thread `joinee` (the detector may go quiet). */
  join(joiner: number, joinee: number): void {
    this.detector.join(joiner, joinee);
    this.active = this.enabled && this.detector.active;
  }

  /**
   * No more checks: the run is over (nothing can race any more, nor in code that uses the memory
   * after it), or `disable` for good (`dataRaceDetector: false`, unsound, to measure the cost).
   */
  stop(disable = false): void {
    if (disable) this.enabled = false;
    this.detector.active = false;
    this.active = false;
  }

  /** Makes `thread` the running thread (called by the Machine when it switches). */
  setThread(thread: number): void {
    this.tid = thread;
    this.memo = this.stacks.memoOf(thread);
  }

  /** The running thread's index, as the detector knows it. */
  thread(): number {
    return this.tid;
  }

  /** The interned stack of the running thread: the site every recorded access carries. */
  site(): number {
    const h = this.host;
    const s = h.s;
    const sp = h.sp;
    // The common case inline: the stack is the one interned last on this thread (compare it).
    const mm = this.memo;
    const keys = mm.keys;
    if (sp > keys.length) return this.stacks.intern(this.tid, s, sp);
    const n = mm.len < sp ? mm.len : sp;
    let j = 0;
    while (j < n && keys[j] === s[j]) j++;
    if (j === sp) return sp === 0 ? 0 : mm.ids[sp - 1];
    return this.stacks.extend(mm, s, sp, j);
  }

  /** The allocation's race state, made on first use for memory allocated while the detector slept. */
  private stateOf(a: SeamAllocation): AllocRaceState {
    return (a.race as AllocRaceState | null) ?? (a.race = this.detector.allocate(a.size, 0, -1, { id: a.id, static: true }));
  }

  // ── the memory's hooks (called only while `active`) ──

  /** A new allocation on the running thread. */
  allocated(a: SeamAllocation): void {
    a.race = this.detector.allocate(a.size, this.tid, this.site(), { id: a.id });
  }

  /** The running thread frees `a` (before it is marked freed): a write of every byte. */
  freed(a: SeamAllocation): void {
    // No state: nothing touched it since threads exist, so nothing can race with the free.
    if (a.race === null) return;
    const r = this.detector.deallocate(a.race as AllocRaceState, this.tid, this.site());
    if (r !== null) this.report(r, a);
  }

  /** A non-atomic read of `size` bytes at offset `off` of `a`. */
  read(a: SeamAllocation, off: number, size: number): void {
    if (untracked(a)) return;
    const r = this.detector.read(this.stateOf(a), off, size, this.tid, this.site());
    if (r !== null) this.report(r, a);
  }

  /** A non-atomic write of `size` bytes at offset `off` of `a`. */
  write(a: SeamAllocation, off: number, size: number): void {
    if (untracked(a)) return;
    const s = this.stateOf(a);
    const r = this.detector.write(s, off, size, this.tid, this.site());
    if (r !== null) this.report(r, a);
    // The write happens after every store to the bytes (else it raced): their buffers are void.
    if (s.weak !== null) this.weak!.nonAtomicWrite(s.weak as AllocStoreBuffers, off, size);
  }

  /** An atomic access through the memory's own atomics (a library user's Memory API). */
  atomic(a: SeamAllocation, off: number, size: number, kind: AtomicAccessKind, ordering: MemoryOrdering): void {
    if (kind === "load") this.atomicLoad(a, off, size, ordering);
    else if (kind === "store") this.atomicStore(a, off, size, ordering);
    else this.atomicRmw(a, off, size, ordering);
  }

  // ── the checked runtime's calls ──

  /**
   * The access a Stacked Borrows retag implies (Miri: a `&mut` retag writes, a shared one reads its
   * frozen bytes): `write` for a unique reborrow.
   */
  retag(a: SeamAllocation, off: number, size: number, write: boolean): void {
    const s = this.stateOf(a);
    const d = this.detector;
    const r = write ? d.retagWrite(s, off, size, this.tid, this.site()) : d.retagRead(s, off, size, this.tid, this.site());
    if (r !== null) this.report(r, a);
  }

  /**
   * The retag of a new reference to a `size`-byte referent at `off` of `a` whose interior-mutable
   * bytes are `cells` (flattened `[start, end)` pairs, or `null`): a `&mut` writes every byte; a
   * `&` reads its frozen bytes only (those outside cells), as Miri's Stacked Borrows retags do.
   */
  reference(a: SeamAllocation, off: number, size: number, cells: readonly number[] | null, mutable: boolean): void {
    if (mutable) return this.retag(a, off, size, true);
    if (cells === null) return this.retag(a, off, size, false);
    let at = 0;
    for (let i = 0; i < cells.length; i += 2) {
      if (cells[i] > at) this.retag(a, off + at, cells[i] - at, false);
      at = Math.max(at, cells[i + 1]);
    }
    if (at < size) this.retag(a, off + at, size - at, false);
  }

  /** An atomic load with `ordering`. */
  atomicLoad(a: SeamAllocation, off: number, size: number, ordering: AtomicOrdering): void {
    if (untracked(a)) return;
    const r = this.detector.atomicLoad(this.stateOf(a), off, size, ordering, this.tid, this.site());
    if (r !== null) this.report(r, a);
  }

  /** An atomic store with `ordering`. */
  atomicStore(a: SeamAllocation, off: number, size: number, ordering: AtomicOrdering): void {
    if (untracked(a)) return;
    const r = this.detector.atomicStore(this.stateOf(a), off, size, ordering, this.tid, this.site());
    if (r !== null) this.report(r, a);
  }

  /** An atomic read-modify-write with `ordering`. */
  atomicRmw(a: SeamAllocation, off: number, size: number, ordering: AtomicOrdering): void {
    if (untracked(a)) return;
    const r = this.detector.atomicRmw(this.stateOf(a), off, size, ordering, this.tid, this.site());
    if (r !== null) this.report(r, a);
  }

  /** A compare-exchange: an RMW with `success` when it `succeeded`, else a load with `failure`. */
  compareExchange(a: SeamAllocation, off: number, size: number, succeeded: boolean, success: AtomicOrdering, failure: AtomicOrdering): void {
    if (untracked(a)) return;
    const r = this.detector.compareExchange(this.stateOf(a), off, size, succeeded, success, failure, this.tid, this.site());
    if (r !== null) this.report(r, a);
  }

  /** `fence(ordering)` on the running thread. */
  fence(ordering: FenceOrdering): void {
    this.detector.fence(ordering, this.tid);
    if (ordering === "SeqCst" && this.weak !== null) this.weak.scFence(this.tid);
  }

  // ── atomics with values: the weak-memory emulation (the checked runtime's atomics) ──

  /**
   * An atomic load with `ordering` whose memory holds `current`: the value the load returns —
   * `current`, or with weak memory an older store's value (that store's clock is what the load
   * acquires). Checks races as {@link atomicLoad}.
   */
  atomicLoadValue(a: SeamAllocation, off: number, size: number, ordering: AtomicOrdering, current: unknown): unknown {
    const w = this.weak;
    if (w === null || untracked(a)) {
      this.atomicLoad(a, off, size, ordering);
      return current;
    }
    const s = this.stateOf(a);
    const t = this.tid;
    const d = this.detector;
    const seqcst = ordering === "SeqCst";
    const time = d.clockOf(t).get(t);
    const e = w.load(s.weak as AllocStoreBuffers | null, off, size, t, seqcst);
    const outdated = e !== null && w.outdated;
    const r = outdated ? d.atomicLoadFrom(s, off, size, ordering, t, this.site(), e.sync) : d.atomicLoad(s, off, size, ordering, t, this.site());
    if (r !== null) this.report(r, a);
    this.outdated[t] = outdated;
    if (e === null) return current;
    e.recordLoad(t, time, seqcst);
    return outdated ? e.value : current;
  }

  /**
   * An atomic store of `value` with `ordering` over memory that held `init` (needed only when the
   * location gets a new store buffer). Checks races as {@link atomicStore}.
   */
  atomicStoreValue(a: SeamAllocation, off: number, size: number, ordering: AtomicOrdering, value: unknown, init: unknown): void {
    const w = this.weak;
    if (w === null || untracked(a)) return this.atomicStore(a, off, size, ordering);
    const s = this.stateOf(a);
    const t = this.tid;
    const d = this.detector;
    const time = d.clockOf(t).get(t);
    const r = d.atomicStore(s, off, size, ordering, t, this.site());
    if (r !== null) this.report(r, a);
    const bufs = (s.weak ??= w.newAllocBuffers()) as AllocStoreBuffers;
    w.store(bufs, off, size, t, time, ordering === "SeqCst", value, init, d.atomicSync(s, off, size));
  }

  /**
   * An atomic read-modify-write with `ordering` that read `old` (always the newest store) and
   * wrote `value`. Checks races as {@link atomicRmw}.
   */
  atomicRmwValue(a: SeamAllocation, off: number, size: number, ordering: AtomicOrdering, value: unknown, old: unknown): void {
    const w = this.weak;
    if (w === null || untracked(a)) return this.atomicRmw(a, off, size, ordering);
    const s = this.stateOf(a);
    const t = this.tid;
    const d = this.detector;
    const time = d.clockOf(t).get(t);
    const r = d.atomicRmw(s, off, size, ordering, t, this.site());
    if (r !== null) this.report(r, a);
    const bufs = (s.weak ??= w.newAllocBuffers()) as AllocStoreBuffers;
    w.rmw(bufs, off, size, t, time, ordering === "SeqCst", value, old, d.atomicSync(s, off, size));
  }

  /**
   * A compare-exchange that read `old` (the newest store) and, when it `succeeded`, wrote `next`:
   * an RMW with `success`, else a load of the newest store with `failure` (Miri's model: a
   * failed compare-exchange does not read an older store). Checks races as {@link compareExchange}.
   */
  compareExchangeValue(
    a: SeamAllocation,
    off: number,
    size: number,
    succeeded: boolean,
    success: AtomicOrdering,
    failure: AtomicOrdering,
    next: unknown,
    old: unknown,
  ): void {
    const w = this.weak;
    if (w === null || untracked(a)) return this.compareExchange(a, off, size, succeeded, success, failure);
    if (succeeded) return this.atomicRmwValue(a, off, size, success, next, old);
    const s = this.stateOf(a);
    const t = this.tid;
    const d = this.detector;
    const time = d.clockOf(t).get(t);
    const r = d.compareExchange(s, off, size, false, success, failure, t, this.site());
    if (r !== null) this.report(r, a);
    w.loadLatest(s.weak as AllocStoreBuffers | null, off, size, t, time, failure === "SeqCst");
  }

  /** Stops the run with a `data-race` report in Miri's words, at the current access, with the earlier one's backtrace. */
  report(r: DataRace, a: SeamAllocation): never {
    const h = this.host;
    const name = (t: number) => h.threadNameOf(t);
    const d = describeRace(r, { thread: name, alloc: a.id });
    const help = d.help.map((x) => {
      if (x.site === undefined) return { message: x.message };
      const location = this.stacks.location(x.site, h.sites);
      return location === undefined ? { message: x.message } : { message: x.message, location };
    });
    const notes: string[] = [];
    const bt = this.stacks.backtrace(r.site1, h.sites);
    if (bt.length > 0) notes.push(`(1) was on thread \`${name(r.thread1)}\`, with this stack backtrace:\n${formatBacktrace(bt)}`);
    const race = { earlier: { access: r.kind1, thread: name(r.thread1), backtrace: bt }, current: { access: r.kind2 } };
    return h.report("data-race", d.message, { title: d.title, label: d.label, help, notes, race });
  }
}

/** A backtrace as the renderer prints `stack backtrace:` (one frame per two lines). */
export function formatBacktrace(frames: Frame[]): string {
  const w = String(frames.length - 1).length;
  const lines: string[] = [];
  frames.forEach((f, i) => {
    lines.push(`${String(i).padStart(w)}: ${f.fn}`);
    lines.push(`${" ".repeat(w + 3)}at ${f.location.file}:${f.location.line}:${f.location.column}`);
  });
  return lines.join("\n");
}

// ── interned stacks ──

/** A thread's last interned stack: its entries and the node of each prefix (`ids[i]` is `keys[0..i]`'s). */
export interface StackMemo {
  keys: Int32Array;
  ids: Int32Array;
  len: number;
}

/** Slots of the interner's child cache (a power of two). */
const CACHE_BITS = 12;
const CACHE_SLOTS = 1 << CACHE_BITS;

/**
 * Call stacks (the Machine's per-thread stacks of call-site entries) interned as nodes of a trie:
 * a node is a stack, its parent the stack without its innermost entry. Node 0 is the empty stack.
 * An id fits a race detector's site (any number).
 */
export class StackInterner {
  /** Parent node of each node (-1 for the root). */
  private readonly parent: number[] = [-1];
  /** The innermost stack entry of each node (site id, with FRAME_MARK). */
  private readonly entry: number[] = [0];
  /** (parent, entry) → node. */
  private readonly children = new Map<number, number>();
  /**
   * A direct-mapped cache in front of {@link children} (parent, entry, node per slot): the top
   * entry of a stack changes at almost every access (each call site of a loop body), and a Map
   * lookup by a 53-bit key costs more than the rest of the access check.
   */
  private readonly cacheParent = new Int32Array(CACHE_SLOTS).fill(-1);
  private readonly cacheEntry = new Int32Array(CACHE_SLOTS);
  private readonly cacheNode = new Int32Array(CACHE_SLOTS);
  /** Per thread: its last interned stack and the node of each of its prefixes. */
  private readonly memos: StackMemo[] = [];

  /** Number of nodes (for tests). */
  get size(): number {
    return this.parent.length;
  }

  /** Thread `t`'s memo. */
  memoOf(t: number): StackMemo {
    return (this.memos[t] ??= { keys: new Int32Array(64), ids: new Int32Array(64), len: 0 });
  }

  /** The node of thread `t`'s stack `s[0..sp)`. */
  intern(t: number, s: Int32Array, sp: number): number {
    if (sp > s.length) sp = s.length;
    if (sp === 0) return 0;
    const m = this.memoOf(t);
    if (m.keys.length < sp) {
      let cap = m.keys.length;
      while (cap < sp) cap *= 2;
      const k = new Int32Array(cap);
      const d = new Int32Array(cap);
      k.set(m.keys);
      d.set(m.ids);
      m.keys = k;
      m.ids = d;
    }
    const keys = m.keys;
    const n = m.len < sp ? m.len : sp;
    let j = 0;
    while (j < n && keys[j] === s[j]) j++;
    if (j === sp) return m.ids[sp - 1];
    return this.extend(m, s, sp, j);
  }

  /** Interns `s[j..sp)` below the memo's node of `s[0..j)` (which matched), updating the memo. */
  extend(m: StackMemo, s: Int32Array, sp: number, j: number): number {
    const keys = m.keys;
    const ids = m.ids;
    let node = j === 0 ? 0 : ids[j - 1];
    const cp = this.cacheParent;
    const ce = this.cacheEntry;
    const cn = this.cacheNode;
    for (let i = j; i < sp; i++) {
      const e = s[i];
      const slot = (Math.imul(node, 0x9e3779b1) ^ Math.imul(e, 0x85ebca6b)) >>> (32 - CACHE_BITS);
      let c: number;
      if (cp[slot] === node && ce[slot] === e) c = cn[slot];
      else {
        const key = node * 4294967296 + (e >>> 0);
        let found = this.children.get(key);
        if (found === undefined) {
          found = this.parent.length;
          this.parent.push(node);
          this.entry.push(e);
          this.children.set(key, found);
        }
        c = found;
        cp[slot] = node;
        ce[slot] = e;
        cn[slot] = c;
      }
      keys[i] = e;
      ids[i] = c;
      node = c;
    }
    m.len = sp;
    return node;
  }

  /** The site id of a node's innermost entry, or -1 for the empty stack (or not a node). */
  site(node: number): number {
    return node > 0 && node < this.parent.length ? this.entry[node] & SITE_MASK : -1;
  }

  /** The location of a node's innermost entry. */
  location(node: number, sites: SiteTable): SourceLocation | undefined {
    const site = this.site(node);
    return site < 0 ? undefined : sites.location(site);
  }

  /** The backtrace of a node, innermost first, as `Machine.backtrace` makes one. */
  backtrace(node: number, sites: SiteTable): Frame[] {
    const frames: Frame[] = [];
    if (!(node > 0 && node < this.parent.length)) return frames;
    let first = true;
    for (let n = node; n > 0; n = this.parent[n]) {
      const e = this.entry[n];
      if (!first && !(e & FRAME_MARK)) continue;
      first = false;
      const id = e & SITE_MASK;
      frames.push({ fn: sites.fn[id], location: sites.location(id) });
    }
    return frames;
  }
}
