/**
 * The race detector wired into the engine: the glue between the Machine, the memory's access
 * path and {@link RaceDetector} (src/concurrency/data-race.ts, which knows nothing of the
 * engine).
 *
 * - **Context.** The running Machine's detector is the live binding {@link races}, set with the
 *   running thread whenever the Machine switches threads ({@link setRaceContext}). The access
 *   path tests `races.active` — false while only one thread exists, or once every other thread
 *   ended and was joined — and skips everything else then, so a single-threaded program pays one
 *   property load per access.
 * - **Race state per allocation** (`Allocation.race`): made when the allocation is (heap, `Box`,
 *   static, local, `realloc`'s new block) while the detector is active, as a write of every byte
 *   by the allocating thread ("creating a new allocation"); an allocation made while it was not
 *   gets its state on its first access in a multi-threaded phase, as memory that existed before
 *   every thread (`static`): its creation happens before any thread that can touch it.
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
  describeRace,
  type AllocRaceState,
  type AtomicOrdering,
  type DataRace,
  type FenceOrdering,
} from "../concurrency/index.js";
import type { Frame, SourceLocation } from "./report.js";
import { current } from "./host.js";
import type { Allocation } from "./memory/allocation.js";

/** What the glue needs of the Machine (structurally: no import of machine.ts). */
interface RaceMachine {
  readonly s: Int32Array;
  readonly sp: number;
  readonly races: RaceDetector;
  readonly stacks: StackInterner;
  readonly threads: readonly { readonly name: string }[];
  readonly program: { readonly sites: { readonly fn: readonly string[]; location(site: number): SourceLocation } };
  report(kind: "data-race", message: string, options: { title?: string; label?: string; help?: { message: string; location?: SourceLocation }[]; notes?: string[] }): never;
}

/**
 * The running Machine's race detector (an inactive placeholder before any Machine runs). The
 * access path reads `races.active`.
 */
export let races: RaceDetector = new RaceDetector();
/** The running thread's id (the detector's thread index). */
let tid = 0;
/** The running Machine's stack interner (a placeholder until a Machine runs; set below the class). */
let stacks: StackInterner;
/** The running thread's memo of its last interned stack (in {@link stacks}). */
let memo: StackMemo;

/** Makes `det` (with its interner) the detector of the running code, on thread `thread`. Called by the Machine. */
export function setRaceContext(det: RaceDetector, interner: StackInterner, thread: number): void {
  races = det;
  stacks = interner;
  tid = thread;
  memo = interner.memoOf(thread);
}

/** The running thread's index, as the detector knows it. */
export function raceThread(): number {
  return tid;
}

/** The interned stack of the running thread: the site every recorded access carries. */
export function raceSite(): number {
  const m = current as unknown as RaceMachine;
  const s = m.s;
  const sp = m.sp;
  // The common case inline: the stack is the one interned last on this thread (compare it).
  const mm = memo;
  const keys = mm.keys;
  if (sp > keys.length) return stacks.intern(tid, s, sp);
  const n = mm.len < sp ? mm.len : sp;
  let j = 0;
  while (j < n && keys[j] === s[j]) j++;
  if (j === sp) return sp === 0 ? 0 : mm.ids[sp - 1];
  return stacks.extend(mm, s, sp, j);
}

/** The allocation's race state, made on first use for memory allocated while the detector slept. */
function stateOf(a: Allocation): AllocRaceState {
  return a.race ?? (a.race = races.allocate(a.size, 0, -1, { id: a.id, static: true }));
}

// ── hooks of the memory (call them only when `races.active`) ──

/** A new allocation on the running thread (Memory.allocate). */
export function raceAllocated(a: Allocation): void {
  a.race = races.allocate(a.size, tid, raceSite(), { id: a.id });
}

/** The running thread frees `a` (before it is marked freed): a write of every byte. */
export function raceFreed(a: Allocation): void {
  // No state: nothing touched it since threads exist, so nothing can race with the free.
  if (a.race === null) return;
  const r = races.deallocate(a.race, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/** A non-atomic read of `size` bytes at offset `off` of `a`. */
export function raceRead(a: Allocation, off: number, size: number): void {
  const r = races.read(stateOf(a), off, size, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/** A non-atomic write of `size` bytes at offset `off` of `a`. */
export function raceWrite(a: Allocation, off: number, size: number): void {
  const r = races.write(stateOf(a), off, size, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/**
 * The access a Stacked Borrows retag implies (Miri: a `&mut` retag writes, a shared one reads its
 * frozen bytes): `write` for a unique reborrow.
 */
export function raceRetag(a: Allocation, off: number, size: number, write: boolean): void {
  const s = stateOf(a);
  const r = write ? races.retagWrite(s, off, size, tid, raceSite()) : races.retagRead(s, off, size, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/**
 * The retag of a new reference to a `size`-byte referent at `off` of `a` whose interior-mutable
 * bytes are `cells` (flattened `[start, end)` pairs, or `null`): a `&mut` writes every byte; a
 * `&` reads its frozen bytes only (those outside cells), as Miri's Stacked Borrows retags do.
 */
export function raceReference(a: Allocation, off: number, size: number, cells: readonly number[] | null, mutable: boolean): void {
  if (mutable) return raceRetag(a, off, size, true);
  if (cells === null) return raceRetag(a, off, size, false);
  let at = 0;
  for (let i = 0; i < cells.length; i += 2) {
    if (cells[i] > at) raceRetag(a, off + at, cells[i] - at, false);
    at = Math.max(at, cells[i + 1]);
  }
  if (at < size) raceRetag(a, off + at, size - at, false);
}

// ── atomics ──

/** An atomic load with `ordering`. */
export function raceAtomicLoad(a: Allocation, off: number, size: number, ordering: AtomicOrdering): void {
  const r = races.atomicLoad(stateOf(a), off, size, ordering, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/** An atomic store with `ordering`. */
export function raceAtomicStore(a: Allocation, off: number, size: number, ordering: AtomicOrdering): void {
  const r = races.atomicStore(stateOf(a), off, size, ordering, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/** An atomic read-modify-write with `ordering`. */
export function raceAtomicRmw(a: Allocation, off: number, size: number, ordering: AtomicOrdering): void {
  const r = races.atomicRmw(stateOf(a), off, size, ordering, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/** A compare-exchange: an RMW with `success` when it `succeeded`, else a load with `failure`. */
export function raceCompareExchange(
  a: Allocation,
  off: number,
  size: number,
  succeeded: boolean,
  success: AtomicOrdering,
  failure: AtomicOrdering,
): void {
  const r = races.compareExchange(stateOf(a), off, size, succeeded, success, failure, tid, raceSite());
  if (r !== null) reportRace(r, a);
}

/** `fence(ordering)` on the running thread. */
export function raceFence(ordering: FenceOrdering): void {
  races.fence(ordering, tid);
}

// ── the report ──

/** Stops the run with a `data-race` report in Miri's words, at the current access, with the earlier one's backtrace. */
export function reportRace(r: DataRace, a: Allocation): never {
  const m = current as unknown as RaceMachine;
  const name = (t: number) => m.threads[t]?.name ?? `thread ${t}`;
  const d = describeRace(r, { thread: name, alloc: a.id });
  const help = d.help.map((h) => {
    if (h.site === undefined) return { message: h.message };
    const location = stacks.location(h.site, m.program.sites);
    return location === undefined ? { message: h.message } : { message: h.message, location };
  });
  const notes: string[] = [];
  const bt = stacks.backtrace(r.site1, m.program.sites);
  if (bt.length > 0) notes.push(`(1) was on thread \`${name(r.thread1)}\`, with this stack backtrace:\n${formatBacktrace(bt)}`);
  return m.report("data-race", d.message, { title: d.title, label: d.label, help, notes });
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

/** A site table: function names and locations by site id. */
interface SiteTable {
  readonly fn: readonly string[];
  location(site: number): SourceLocation;
}

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

stacks = new StackInterner();
memo = stacks.memoOf(0);
