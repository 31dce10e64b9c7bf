/**
 * Lock-order checking in the way of Linux lockdep (`Documentation/locking/lockdep-design.rst`):
 * predicts deadlocks from the order locks are taken in, even in a run that did not deadlock.
 *
 * - **Classes.** Locks that are "logically the same" share a class: every lock allocated at one
 *   site, or every lock given one name (kmiri/rt's `lock_acquired(lock, class_name)`). Ordering is
 *   checked between classes, so one run that takes `frame_table` then `page_table` on one thread,
 *   and another that takes them the other way round on any thread, is enough — the two never have
 *   to overlap in time.
 * - **The graph.** Each acquisition of a lock of class B while a lock of class A is held adds the
 *   edge A → B ("A held while acquiring B"), remembering where A and B were taken and on which
 *   thread — the first time only, as lockdep records each dependency once. A new edge that closes
 *   a cycle (B already reaches A) is a *lock order inversion*: reported with both chains, the one
 *   this thread just made and the one recorded earlier.
 * - **Self-deadlock.** Acquiring a lock instance the thread already holds waits for itself
 *   forever (kind `deadlock`). Acquiring a *different* lock of a class the thread already holds is
 *   lockdep's "possible recursive locking" (the same nesting on two threads in opposite orders
 *   deadlocks); reported unless {@link LockOrderOptions.sameClassNesting} allows it. Locks of one
 *   class that nest in a fixed order (parent before child) should get one class per level, as
 *   lockdep's subclasses do.
 * - **Ranks** (optional, KrustVM-style): a class may declare a rank; acquiring a class of lower
 *   rank while holding one of higher rank is reported, whether or not a cycle was seen yet.
 * - **Trylocks** never wait, so they cannot close a deadlock: a successful trylock is pushed on the
 *   held stack (later acquisitions order after it) but adds no edge and is not checked.
 *
 * Call {@link LockOrderChecker.acquire} when the thread *starts* to take the lock (before it
 * waits), as lockdep's `lock_acquire` is called: that is the only moment a relock of a held lock
 * can be seen, since the thread then never gets it. kmiri/rt's `lock_acquired` annotation is
 * called right after the lock was taken; from there every check but the self-deadlock works (a
 * relock spins, and the engine reports the global deadlock instead).
 *
 * Cost: one map lookup per held lock per acquisition (the common case: every edge known); a
 * graph search only when an edge is new, which happens once per pair of classes.
 *
 * @module
 */

/** A lock class: all locks that are logically the same. */
export interface LockClass {
  /** Dense index. */
  readonly id: number;
  /** The key the engine registered it by (an allocation site, or a name). */
  readonly key: string | number;
  /** The name printed in reports. */
  readonly name: string;
  /** The declared rank, if any: classes must be acquired in increasing rank. */
  rank?: number;
}

/** A lock a thread holds. */
export interface HeldLock {
  /** The lock instance (the engine's id for it, e.g. its address). */
  readonly lock: number;
  /** Its class id. */
  readonly cls: number;
  /** Where it was acquired. */
  readonly site: number;
  /** Acquired by a trylock. */
  readonly try: boolean;
}

/** An edge of the lock graph: `from` was held while `to` was acquired, first seen on `thread`. */
export interface LockEdge {
  /** The class held. */
  readonly from: number;
  /** The class acquired. */
  readonly to: number;
  /** The thread that did it first. */
  readonly thread: number;
  /** Where the held lock was acquired. */
  readonly fromSite: number;
  /** Where the new lock was acquired. */
  readonly toSite: number;
}

/** What the thread was doing when a violation was found: acquiring `lock` of class `cls` at `site`. */
export interface LockAcquisition {
  /** The acquiring thread. */
  thread: number;
  /** The lock instance being acquired. */
  lock: number;
  /** Its class. */
  cls: number;
  /** Where. */
  site: number;
}

/**
 * A lock-order problem, as data. Word it with {@link describeLockViolation}.
 *
 * - `inversion`: acquiring `cls` while holding `held.cls` adds an edge that closes a cycle;
 *   `cycle` is the path recorded earlier from `cls` back to `held.cls` (its first edge starts at
 *   `cls`, its last ends at `held.cls`).
 * - `self-deadlock`: the thread already holds this very lock (`held` is where it took it).
 * - `recursive`: the thread holds another lock of the same class.
 * - `rank`: `cls` has a lower rank than the held `held.cls`.
 */
export type LockViolation =
  | (LockAcquisition & { kind: "inversion"; held: HeldLock; cycle: LockEdge[] })
  | (LockAcquisition & { kind: "self-deadlock"; held: HeldLock })
  | (LockAcquisition & { kind: "recursive"; held: HeldLock })
  | (LockAcquisition & { kind: "rank"; held: HeldLock; rank: number; heldRank: number });

/** Options of {@link LockOrderChecker}. */
export interface LockOrderOptions {
  /**
   * Acquiring a second lock of a class already held: `"report"` (lockdep's default, a `recursive`
   * violation) or `"allow"` (no check and no edge).
   */
  sameClassNesting?: "report" | "allow";
}

/** Options of {@link LockOrderChecker.acquire}. */
export interface AcquireOptions {
  /** A trylock that succeeded: recorded as held, never checked, adds no edge. */
  try?: boolean;
}

/** The record of an acquisition, for a violation's report. */
function acquisition(thread: number, lock: number, cls: number, site: number): LockAcquisition {
  return { thread, lock, cls, site };
}

/**
 * The lockdep state of one run: classes, the lock graph, and the locks each thread holds.
 *
 * @example
 * ```ts
 * const lo = new LockOrderChecker();
 * const A = lo.classFor("frame_table"), B = lo.classFor("page_table");
 * lo.acquire(1, 0x100, A, s1); lo.acquire(1, 0x200, B, s2);   // cpu1: A then B
 * lo.release(1, 0x200); lo.release(1, 0x100);
 * lo.acquire(2, 0x200, B, s3);
 * const v = lo.acquire(2, 0x100, A, s4);                        // cpu2: B then A
 * v?.kind;                                                      // "inversion", though nothing deadlocked
 * ```
 */
export class LockOrderChecker {
  private readonly classes: LockClass[] = [];
  private readonly byKey = new Map<string | number, number>();
  /** from class → (to class → edge). */
  private readonly adj: Map<number, LockEdge>[] = [];
  private readonly heldBy: HeldLock[][] = [];
  private readonly nesting: "report" | "allow";

  /** An empty checker: no classes, no edges, no thread holds a lock. */
  constructor(options: LockOrderOptions = {}) {
    this.nesting = options.sameClassNesting ?? "report";
  }

  /**
   * The class of a key, registered on first use.
   * @param key an allocation site (number) or a class name (string).
   * @param name the name printed in reports (default: the key as text).
   * @returns the class id.
   */
  classFor(key: string | number, name?: string): number {
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.classes.length;
      this.classes.push({ id, key, name: name ?? String(key) });
      this.adj.push(new Map());
      this.byKey.set(key, id);
    }
    return id;
  }

  /** The class with this id. */
  classInfo(cls: number): LockClass {
    return this.classes[cls];
  }

  /** Declares the rank of a class (registering it if needed): classes must be taken in increasing rank. */
  declareRank(key: string | number, rank: number, name?: string): number {
    const id = this.classFor(key, name);
    this.classes[id].rank = rank;
    return id;
  }

  /**
   * Thread `thread` acquires lock instance `lock` of class `cls` at `site`. Records the edges
   * from every held lock and pushes the lock on the thread's held stack.
   * @returns the first violation found (self-deadlock, rank, recursive, inversion), or null. On a
   * self-deadlock the lock is not pushed; an edge that would close a cycle is not added (the
   * graph stays acyclic, so later reports stay meaningful).
   */
  acquire(thread: number, lock: number, cls: number, site: number, options?: AcquireOptions): LockViolation | null {
    const held = this.heldOf(thread);
    const entry: HeldLock = { lock, cls, site, try: options?.try === true };
    if (entry.try) {
      held.push(entry);
      return null;
    }
    // (The acquisition's record is made only for a violation: this runs at every lock taken.)
    for (let i = held.length - 1; i >= 0; i--) {
      if (held[i].lock === lock) return { kind: "self-deadlock", ...acquisition(thread, lock, cls, site), held: held[i] };
    }
    let violation: LockViolation | null = null;
    const rank = this.classes[cls].rank;
    if (rank !== undefined) {
      for (let i = held.length - 1; i >= 0 && !violation; i--) {
        const hr = this.classes[held[i].cls].rank;
        if (hr !== undefined && rank < hr) violation = { kind: "rank", ...acquisition(thread, lock, cls, site), held: held[i], rank, heldRank: hr };
      }
    }
    for (let i = held.length - 1; i >= 0; i--) {
      const h = held[i];
      if (h.cls === cls) {
        if (this.nesting === "report" && !violation) violation = { kind: "recursive", ...acquisition(thread, lock, cls, site), held: h };
        continue;
      }
      const out = this.adj[h.cls];
      if (out.has(cls)) continue;
      const path = this.path(cls, h.cls);
      if (path) {
        if (!violation) violation = { kind: "inversion", ...acquisition(thread, lock, cls, site), held: h, cycle: path };
        continue;
      }
      out.set(cls, { from: h.cls, to: cls, thread, fromSite: h.site, toSite: site });
    }
    held.push(entry);
    return violation;
  }

  /**
   * Thread `thread` releases lock instance `lock` (in any order).
   * @returns false when the thread did not hold it (lockdep's "bad unlock balance").
   */
  release(thread: number, lock: number): boolean {
    const held = this.heldOf(thread);
    for (let i = held.length - 1; i >= 0; i--) {
      if (held[i].lock === lock) {
        held.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** The locks a thread holds, oldest first. */
  held(thread: number): readonly HeldLock[] {
    return this.heldOf(thread);
  }

  /** Every edge of the lock graph. */
  edges(): LockEdge[] {
    return this.adj.flatMap((m) => [...m.values()]);
  }

  /** The edge `from → to`, if recorded. */
  edge(from: number, to: number): LockEdge | undefined {
    return this.adj[from]?.get(to);
  }

  /** A path of recorded edges from class `from` to class `to` (breadth-first: a shortest one), or null. */
  private path(from: number, to: number): LockEdge[] | null {
    const via = new Map<number, LockEdge>();
    const queue = [from];
    const seen = new Set([from]);
    for (let q = 0; q < queue.length; q++) {
      for (const e of this.adj[queue[q]].values()) {
        if (seen.has(e.to)) continue;
        seen.add(e.to);
        via.set(e.to, e);
        if (e.to === to) {
          const path: LockEdge[] = [];
          for (let c = to; c !== from; ) {
            const step = via.get(c)!;
            path.push(step);
            c = step.from;
          }
          return path.reverse();
        }
        queue.push(e.to);
      }
    }
    return null;
  }

  private heldOf(thread: number): HeldLock[] {
    return (this.heldBy[thread] ??= []);
  }
}

/** A lock-order violation worded for a report; the engine adds the location of the current site, the thread and the backtrace. */
export interface LockViolationDescription {
  /** The UB kind: `deadlock` for a self-deadlock, `lock-order` otherwise. */
  kind: "lock-order" | "deadlock";
  /** `possible deadlock`, or `deadlock` for a self-deadlock. */
  title: string;
  /** One line. */
  message: string;
  /** Under the current acquisition. */
  label: string;
  /** Help lines; one with `site` points at that site. */
  help: { message: string; site?: number }[];
  /** Notes without a location (lockdep's "possible unsafe locking scenario"). */
  notes: string[];
}

/**
 * Words a violation.
 *
 * @example
 * ```ts
 * describeLockViolation(v, lo, { thread: (t) => `cpu${t}` }).message
 * // "lock order inversion: lock class `frame_table` is acquired while holding `page_table`, but elsewhere `page_table` is acquired while holding `frame_table`"
 * ```
 */
export function describeLockViolation(
  v: LockViolation,
  checker: Pick<LockOrderChecker, "classInfo">,
  names: { thread(t: number): string },
): LockViolationDescription {
  const cn = (c: number) => `\`${checker.classInfo(c).name}\``;
  const me = names.thread(v.thread);
  const B = cn(v.cls);
  const A = cn(v.held.cls);
  switch (v.kind) {
    case "self-deadlock":
      return {
        kind: "deadlock",
        title: "deadlock",
        message: `deadlock: thread \`${me}\` is acquiring a lock of class ${B} that it already holds, so it would wait for itself forever`,
        label: "the lock is acquired again here",
        help: [{ message: `the thread acquired it here, and has not released it since`, site: v.held.site }],
        notes: [],
      };
    case "recursive":
      return {
        kind: "lock-order",
        title: "possible deadlock",
        message: `possible recursive locking: thread \`${me}\` is acquiring a lock of class ${B} while holding another lock of the same class`,
        label: `a second ${B} lock is acquired here`,
        help: [
          { message: `the ${B} lock already held was acquired here`, site: v.held.site },
          { message: "two threads nesting locks of one class in opposite orders deadlock" },
          { message: "if these locks always nest in one order (parent before child), give each level its own class name" },
        ],
        notes: [scenario(`${checker.classInfo(v.cls).name} (one)`, `${checker.classInfo(v.cls).name} (another)`)],
      };
    case "rank":
      return {
        kind: "lock-order",
        title: "possible deadlock",
        message: `lock rank violation: lock class ${B} (rank ${v.rank}) is acquired while holding ${A} (rank ${v.heldRank}); locks must be acquired in increasing rank`,
        label: `${B} is acquired here`,
        help: [
          { message: `${A} was acquired here`, site: v.held.site },
          { message: `acquire ${B} before ${A}, or change the declared ranks` },
        ],
        notes: [],
      };
    case "inversion": {
      const cycle = v.cycle;
      const elsewhere =
        cycle.length === 1
          ? `elsewhere ${A} is acquired while holding ${B}`
          : `elsewhere they are taken in the order ${[v.cls, ...cycle.map((e) => e.to)].map(cn).join(" → ")}`;
      const help: { message: string; site?: number }[] = [
        { message: `${A} was acquired here, on this thread`, site: v.held.site },
      ];
      for (const e of cycle) {
        help.push({ message: `on thread \`${names.thread(e.thread)}\`, ${cn(e.from)} was acquired here`, site: e.fromSite });
        help.push({ message: `and then ${cn(e.to)} here, while ${cn(e.from)} was held`, site: e.toSite });
      }
      help.push({ message: "threads that take these locks in opposite orders can deadlock, even if this run did not; take them in one order everywhere" });
      const chain = cycle.length > 1 ? [`chain exists of: ${[v.held.cls, v.cls, ...cycle.map((e) => e.to)].map(cn).join(" --> ")}`] : [];
      return {
        kind: "lock-order",
        title: "possible deadlock",
        message: `lock order inversion: lock class ${B} is acquired while holding ${A}, but ${elsewhere}`,
        label: `${B} is acquired here while ${A} is held`,
        help,
        notes: [...chain, scenario(checker.classInfo(v.held.cls).name, checker.classInfo(v.cls).name, cycle.length > 1 ? checker.classInfo(cycle[cycle.length - 1].from).name : undefined)],
      };
    }
  }
}

/**
 * lockdep's "possible unsafe locking scenario": CPU0 takes `a` then `b`; CPU1 takes `b` (or, for a
 * longer chain, `mid`, the last class before `a`) then `a`.
 */
function scenario(a: string, b: string, mid?: string): string {
  const col = 32;
  const left = (s: string) => `  ${s}`;
  const right = (s: string) => `  ${" ".repeat(col)}${s}`;
  const lines = [
    "possible unsafe locking scenario:",
    "",
    `  ${"CPU0".padEnd(col)}CPU1`,
    `  ${"----".padEnd(col)}----`,
    left(`lock(${a});`),
    right(`lock(${mid ?? b});`),
    ...(mid !== undefined ? [left(`lock(${b});`)] : []),
    right(`lock(${a});`),
    left(`lock(${mid ?? b});`),
    "",
    " *** DEADLOCK ***",
  ];
  return lines.join("\n");
}
