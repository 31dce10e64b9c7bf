/**
 * kmiri's concurrency analyses as a library (`kmiri/concurrency`). Nothing here imports the
 * engine, the shims or the CLI (only `src/data-structures`), so a simulator with its own CPU loop
 * can use them directly:
 *
 * - **Vector clocks** ({@link VectorClock}, epochs): the happens-before bookkeeping. Entry `t` of a
 *   clock is the last logical time of thread `t` known to happen before the clock's owner.
 * - **The data-race detector** ({@link RaceDetector}): Miri's model of non-atomic and atomic
 *   accesses, fences, spawn/join and lock edges, with FastTrack epochs. Every check returns `null`
 *   or a {@link DataRace}; {@link describeRace} words a race as Miri does.
 * - **Weak memory** ({@link WeakMemory}): Miri's store-buffer emulation of the C++11/Rust memory
 *   model — per-location buffers of atomic stores, from which a load may read an older store than
 *   the newest (store buffering, stale relaxed reads), with coherence and SeqCst rules; driven
 *   beside the race detector, whose clocks it reads.
 * - **The lock-order checker** ({@link LockOrderChecker}): Linux lockdep's classes and lock graph;
 *   it predicts deadlocks (inversions, recursive locking, rank violations, relocking) from the
 *   order locks are taken in, even in a run that did not deadlock. {@link describeLockViolation}
 *   words a {@link LockViolation}.
 * - **Scheduling policies** ({@link SchedulingPolicy}): {@link RandomPreemption},
 *   {@link PctPolicy} (with {@link pctBound}, its probability guarantee), {@link RecordingPolicy}
 *   and {@link ReplayPolicy} (replay strings: {@link encodeSchedule}, {@link decodeSchedule}), all
 *   drawing from a {@link Xoshiro128} seeded per stream with {@link deriveSeed}.
 *
 * The numbers the API takes are the caller's: a *thread* is a dense small integer (`main` is 0,
 * spawned threads 1, 2, … — {@link RaceDetector.spawn} hands out the next one by default); a
 * *site* is an opaque number naming a program location (a call-site id), stored and returned in
 * findings, never interpreted; offsets and sizes are in bytes within one allocation.
 *
 * @example Driving the race detector by hand
 * ```ts
 * import { RaceDetector, describeRace } from "kmiri/concurrency";
 *
 * const det = new RaceDetector();                  // thread 0 (`main`) exists
 * const x = det.allocate(4, 0, 100);               // main allocates 4 bytes at site 100
 * const cpu1 = det.spawn(0);                       // spawn edge main → 1: the child sees the allocation
 * det.write(x, 0, 4, cpu1, 101);                   // null: cpu1 writes bytes 0..4 at site 101
 * const race = det.read(x, 0, 4, 0, 102);          // main reads them without synchronising with cpu1
 * describeRace(race!, { thread: (t) => (t === 0 ? "main" : `cpu${t}`), alloc: 1 }).message;
 * // "Data race detected between (1) non-atomic write on thread `cpu1` and (2) non-atomic read on thread `main` at alloc1[0x0]"
 *
 * det.terminate(cpu1);                             // cpu1 ends …
 * det.join(0, cpu1);                               // … and main joins it: the write happens before
 * det.read(x, 0, 4, 0, 103);                       // null
 * ```
 *
 * ## Wiring into the engine (one detector, one checker and one policy per Machine)
 *
 * Thread ids are the Machine's (`main` 0, spawned threads in creation order); sites are its
 * call-site ids.
 *
 * | engine event | call |
 * | --- | --- |
 * | Machine start | `new RaceDetector()`, `new LockOrderChecker()`, `new RecordingPolicy(policy)` |
 * | allocation (heap, `Box`, `local`, realloc's new block) | `alloc.race = det.allocate(size, t, site, { id, static: !det.active })` |
 * | static / global | `det.allocate(size, 0, site, { id, static: true })` |
 * | non-atomic read / write (memory/access.ts, when `det.active`) | `det.read(alloc.race, off, size, t, site)` / `det.write(…)` |
 * | Stacked Borrows retag (read / write) | `det.retagRead(…)` / `det.retagWrite(…)` |
 * | `dealloc`, `Box` drop, a local dying, realloc's old block | `det.deallocate(alloc.race, t, site)` (before marking it freed) |
 * | `load` / `store` / `swap`, `fetch_*` / `compare_exchange(_weak)` | `det.atomicLoad` / `det.atomicStore` / `det.atomicRmw` / `det.compareExchange(…, succeeded, success, failure, t, site)` |
 * | with weak memory (`wm = new WeakMemory(det, new Xoshiro128(deriveSeed(seed, "weak_memory")))`, made when `det` first becomes active) | a load: `e = wm.load(bufs, off, size, t, sc)` before the detector, which acquires `e.sync` (`det.atomicLoadFrom`) when `wm.outdated`, then `e.recordLoad(t, time, sc)`; a store / RMW after the detector: `wm.store` / `wm.rmw(…, det.atomicSync(s, off, size))`; a failed compare-exchange: `wm.loadLatest`; a non-atomic write: `wm.nonAtomicWrite`; an SC fence: `wm.scFence(t)`; the detector waking up again: `wm.newEpoch()` |
 * | `fence(o)` | `det.fence(o, t)` (`compiler_fence`: nothing) |
 * | `spawn` | `det.spawn(parent, child.id)` |
 * | a thread ends (returns or panics) | `det.terminate(t)` |
 * | `join` returns | `det.join(joiner, joinee)` |
 * | `lock_acquired(l, name)` / `lock_released(l)` | `lo.acquire(t, addr, lo.classFor(name ?? allocSite, label), site)` / `lo.release(t, addr)`. kmiri's locks are built from atomics, which carry the happens-before; `det.lockAcquire` / `det.lockRelease` (a clock per lock) are for an engine whose locks are not |
 * | every scheduling decision | `next = policy.pick(runnable, current); m.b = policy.budget()` |
 *
 * A race becomes a report with kind `data-race`: {@link describeRace} gives the title, message,
 * label and help lines (`site` → location); a lock violation one with the kind
 * {@link describeLockViolation} gives (`lock-order`, or `deadlock` for a relock). Every
 * concurrency report carries `policy.replayString(seed)` in its notes; `--replay STRING` runs
 * with `new ReplayPolicy(STRING)`.
 *
 * @module
 */
export * from "./vector-clock.js";
export * from "./data-race.js";
export * from "./weak-memory.js";
export * from "./lock-order.js";
export * from "./scheduler.js";
// The range map the race cells can live in (see `raceCellOps`), so its user need not reach into src/data-structures.
export { RangeMap, type RangeMapOps } from "../data-structures/range-map.js";
