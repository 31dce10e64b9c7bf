/**
 * kmiri's concurrency analyses as a library: vector clocks ({@link VectorClock}), the data-race
 * detector ({@link RaceDetector}), lockdep-style lock-order checking
 * ({@link LockOrderChecker}) and scheduling policies ({@link RandomPreemption},
 * {@link PctPolicy}, {@link RecordingPolicy}, {@link ReplayPolicy}). Nothing here imports the
 * engine, the shims or the CLI, so a simulator with its own CPU loop can use them directly.
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
export * from "./lock-order.js";
export * from "./scheduler.js";
