// ktests of `sync`: OSTD's own tests of these types at the HEAD read (the `Mutex` regression test,
// the `Rcu`/`RcuOption`/`RwLock` doc examples, `either.rs`'s `rcu_store_load`), then multi-CPU
// tests: counters in kmiri memory under `SpinLock` and `RwLock`, parallel readers, an interrupt
// handler taking an irq-safe lock, RCU publication and reclamation, `Arc` clones and drops.
import { Box, assert, assert_eq, ktest, spawn, spin_loop, u32, u64, yield_now, type Box as BoxT } from "kmiri/rt";
import { alloc_irq_line } from "../arch/irq.js";
import { Arc, ArcPtr, BoxPtr, Mutex, Rcu, RcuDrop, RcuOption, RwLock, SpinLock, Weak, call_rcu, rcu_barrier, rcu_read_lock, synchronize_rcu, WriteIrqDisabled } from "./index.js";
import { finish_grace_period } from "./rcu.js";
import { in_atomic_mode } from "./preempt.js";

/** Runs `f(i)` on CPUs 0..n-1 (the caller is CPU 0) and joins them. */
function on_cpus(n: number, f: (cpu: number) => void): void {
  const hs = [];
  for (let i = 1; i < n; i++) hs.push(spawn(() => f(i)));
  f(0);
  for (const h of hs) h.join();
}

// ── OSTD's own tests ──

// sync/mutex.rs: a regression test for asterinas#1279 (for the `spin::Mutex` alias here).
ktest("try_lock_does_not_unlock", () => {
  const lock = new Mutex(0, "try_lock_does_not_unlock");
  const guard1 = lock.lock();
  assert(lock.try_lock() === null, "a failed try_lock");
  assert(lock.try_lock() === null, "the lock is still held");
  guard1.release();
  const g = lock.try_lock();
  assert(g !== null, "free again");
  g!.release();
  lock.drop();
});

// sync/rwlock.rs's doc example.
ktest("rwlock_doc_example", () => {
  const lock = new RwLock(5, "rwlock_doc_example");
  {
    const r1 = lock.read();
    const r2 = lock.read();
    assert_eq(r1.value, 5);
    assert_eq(r2.value, 5);
    const r3 = lock.upread();
    assert_eq(r3.value, 5);
    r1.release();
    r2.release();
    const w1 = r3.upgrade();
    w1.value += 1;
    assert_eq(w1.value, 6);
    w1.release();
  }
  {
    const w2 = lock.write();
    w2.value += 1;
    assert_eq(w2.value, 7);
    w2.release();
  }
  assert_eq(RwLock.raw_word(lock), 0n);
  lock.drop();
});

ktest("rwlock_try_variants", () => {
  const lock = new RwLock("v", "rwlock_try_variants");
  const r = lock.try_read()!;
  assert(lock.try_write() === null, "no writer while a reader holds it");
  const u = lock.try_upread()!;
  assert(lock.try_upread() === null, "one upreader at a time");
  r.release();
  const w = u.upgrade();
  assert(lock.try_read() === null, "no reader while the writer holds it");
  assert(lock.try_upread() === null, "no upreader while the writer holds it");
  w.release();
  assert_eq(RwLock.raw_word(lock), 0n);
  assert(!in_atomic_mode(), "every guard gave its preemption guard back");
  lock.drop();
});

// sync/rcu/mod.rs's `Rcu` doc example.
ktest("rcu_doc_example", () => {
  const rcu = new Rcu(BoxPtr(u32), Box.new(u32, 42));
  const g = rcu.read();
  assert_eq(g.get().read(), 42);
  assert(g.compare_exchange(Box.new(u32, 43)).ok, "no one else updated it");
  const g2 = rcu.read();
  assert_eq(g2.get().read(), 43);
  g2.release();
  synchronize_rcu();
  rcu.drop();
});

// sync/rcu/mod.rs's `RcuOption` doc example.
ktest("rcu_option_doc_example", () => {
  const rcu = RcuOption.new_none(BoxPtr(u64));
  const g0 = rcu.read();
  assert(g0.is_none(), "empty");
  g0.release();
  rcu.update(Box.new(u64, 42n));
  {
    const g = rcu.read();
    assert_eq(g.get()!.read(), 42n);
    g.release();
  }
  {
    const g = rcu.read();
    assert(g.compare_exchange(Box.new(u64, 43n)).ok, "no one else updated it");
    const g2 = rcu.read();
    assert_eq(g2.get()!.read(), 43n);
    g2.release();
  }
  synchronize_rcu();
  rcu.drop();
});

// sync/rcu/non_null/either.rs's `rcu_store_load`, with the two pointer kinds (`Arc`, `Box`) in two
// cells, as `Either` is not ported.
ktest("rcu_store_load", () => {
  const arcs = RcuOption.new_none(ArcPtr(u32));
  const g = arcs.read();
  assert(g.get() === null, "empty");
  g.release();
  arcs.update(Arc.new(u32, 888));
  const g2 = arcs.read();
  assert_eq(g2.get()!.read(), 888);
  g2.release();
  const boxes = new RcuOption(BoxPtr(u32), Box.new(u32, 1));
  boxes.update(Box.new(u32, 999));
  const g3 = boxes.read();
  assert_eq(g3.get()!.read(), 999);
  g3.release();
  rcu_barrier();
  arcs.drop();
  boxes.drop();
});

ktest("arc_counts_and_weak", () => {
  const a = Arc.new(u32, 7);
  assert_eq(Arc.strong_count(a), 1);
  assert(a.get_mut() !== null, "unique");
  a.get_mut()!.write(8);
  const b = a.clone();
  assert(Arc.ptr_eq(a, b), "same allocation");
  assert(a.get_mut() === null, "shared");
  const w = Arc.downgrade(a);
  assert_eq(Arc.weak_count(a), 1);
  b.drop();
  assert(a.get_mut() === null, "a weak reference is left");
  const up = w.upgrade()!;
  assert_eq(up.value, 8);
  up.drop();
  a.drop();
  assert(w.upgrade() === null, "the value is gone");
  w.drop();
  assert(Weak.new<number>().upgrade() === null, "Weak::new upgrades to nothing");
});

ktest("arc_js_value_dropped_once", () => {
  let drops = 0;
  const a = Arc.new_value({ name: "area", drop: () => drops++ });
  const b = a.clone();
  a.drop();
  assert_eq(drops, 0);
  assert_eq(b.value.name, "area");
  b.drop();
  assert_eq(drops, 1);
});

ktest("rcu_drop_defers", () => {
  let dropped = false;
  const d = new RcuDrop({ drop: () => (dropped = true) });
  d.drop();
  assert(!dropped, "not before a grace period");
  synchronize_rcu();
  assert(dropped, "after it");
});

// ── Multi-CPU ──

const ROUNDS = 5;

ktest("spinlock_counter_4_cpus", () => {
  const lock = new SpinLock<BoxT<bigint>>(Box.new(u64, 0n), "spin_counter");
  on_cpus(4, () => {
    for (let i = 0; i < ROUNDS; i++) {
      const g = lock.lock();
      const c = g.value; // one `Deref`
      c.write(c.read() + 1n);
      g.release();
    }
  });
  const g = lock.lock();
  assert_eq(g.value.read(), BigInt(4 * ROUNDS));
  g.value.drop();
  g.release();
  lock.drop();
});

ktest("rwlock_write_counter_4_cpus", () => {
  const lock = new RwLock<BoxT<bigint>>(Box.new(u64, 0n), "rw_counter");
  on_cpus(4, (cpu) => {
    for (let i = 0; i < ROUNDS; i++) {
      if ((cpu + i) % 2 === 0) {
        const w = lock.write();
        const c = w.value; // one `Deref`
        c.write(c.read() + 1n);
        w.release();
      } else {
        const u = lock.upread();
        const before = u.value.read();
        const w = u.upgrade();
        const c = w.value;
        assert_eq(c.read(), before, "nobody wrote between the upread and the upgrade");
        c.write(before + 1n);
        w.release();
      }
    }
  });
  const r = lock.read();
  assert_eq(r.value.read(), BigInt(4 * ROUNDS));
  r.release();
  lock.get_mut().drop();
  lock.drop();
});

ktest("rwlock_parallel_readers", () => {
  const lock = new RwLock<BoxT<number>>(Box.new(u32, 0), "rw_readers");
  const inside = Box.new(u32, 0); // unused payload: readers only read `lock`'s box
  {
    const w = lock.write();
    w.value.write(42);
    w.release();
  }
  on_cpus(4, () => {
    for (let i = 0; i < ROUNDS; i++) {
      const r = lock.read();
      assert_eq(r.value.read(), 42);
      yield_now(); // let the others in while this reader holds it
      r.release();
    }
  });
  inside.drop();
  lock.get_mut().drop();
  lock.drop();
});

ktest("spinlock_disable_irq_with_handler", () => {
  const lock = new SpinLock<BoxT<bigint>>(Box.new(u64, 0n), "irq_counter");
  const line = alloc_irq_line();
  line.set_affinity(0);
  line.on_active(() => {
    // Interrupts are off in a handler? No: Mirch runs handlers with them on, so use the guard.
    const g = lock.disable_irq().lock();
    const c = g.value; // one `Deref`
    c.write(c.read() + 100n);
    g.release();
  });
  on_cpus(4, (cpu) => {
    for (let i = 0; i < ROUNDS; i++) {
      const g = lock.disable_irq().lock();
      const c = g.value;
      c.write(c.read() + 1n);
      g.release();
      if (cpu === 1 && i < 2) line.raise();
    }
  });
  // Let the pending interrupts in on CPU 0.
  for (let i = 0; i < 10; i++) yield_now();
  const g = lock.disable_irq().lock();
  const v = g.value.read();
  g.release();
  assert(v >= BigInt(4 * ROUNDS) && (v - BigInt(4 * ROUNDS)) % 100n === 0n, `counter ${v}`);
  lock.get_mut().drop();
  lock.drop();
});

ktest("rcu_publish_read_reclaim_4_cpus", () => {
  const rcu = new Rcu(BoxPtr(u64), Box.new(u64, 0n));
  const writer = new SpinLock(null, "rcu_writers");
  on_cpus(4, (cpu) => {
    for (let i = 0; i < ROUNDS; i++) {
      if (cpu % 2 === 0) {
        // A writer: publish a new version (writers serialised by a lock, as `update` asks).
        const g = writer.lock();
        const cur = rcu.read();
        const next = cur.get().read() + 1n;
        cur.release();
        rcu.update(Box.new(u64, next));
        g.release();
      } else {
        // A reader: versions only grow, and the object stays alive while the guard is held.
        const r = rcu.read();
        const a = r.get().read();
        yield_now();
        const b = r.get().read();
        assert_eq(a, b, "an RCU-protected object does not change under a reader");
        r.release();
      }
    }
    if (cpu === 2) synchronize_rcu();
  });
  synchronize_rcu();
  const r = rcu.read();
  assert_eq(r.get().read(), BigInt(2 * ROUNDS));
  r.release();
  rcu_barrier();
  rcu.drop();
  writer.drop();
});

ktest("call_rcu_from_several_cpus", () => {
  const count = new SpinLock(0, "call_rcu_count");
  on_cpus(4, () => {
    const guard = rcu_read_lock();
    call_rcu(() => {
      const g = count.disable_irq().lock();
      g.value += 1;
      g.release();
    });
    guard.release();
  });
  rcu_barrier();
  rcu_barrier();
  const g = count.disable_irq().lock();
  assert_eq(g.value, 4);
  g.release();
  count.drop();
});

ktest("arc_clone_drop_4_cpus", () => {
  const a = Arc.new(u64, 5n);
  const clones = [a.clone(), a.clone(), a.clone()];
  const w = Arc.downgrade(a);
  on_cpus(4, (cpu) => {
    const mine = cpu === 0 ? a : clones[cpu - 1];
    for (let i = 0; i < ROUNDS; i++) {
      const c = mine.clone();
      assert_eq(c.get().read(), 5n);
      c.drop();
      const u = w.upgrade();
      if (u !== null) u.drop();
    }
    mine.drop(); // the last of the four frees the value
  });
  assert(w.upgrade() === null, "the last drop dropped the value");
  w.drop();
  void spin_loop;
});

// ── the paths the tests above do not take ──

// `read_with`: a read under a guard the caller already holds (a spin-lock guard is atomic mode).
ktest("rcu_read_with_spinlock_guard_one_cpu", () => {
  const rcu = new RcuOption(BoxPtr(u32), Box.new(u32, 7));
  const lock = new SpinLock(0, "rcu_read_with_one_cpu");
  const g = lock.lock();
  const p = rcu.read_with(g);
  assert(p !== null, "published");
  assert_eq(p!.read(), 7);
  g.release();
  rcu.drop();
  lock.drop();
});

// A compare-exchange through a stale read guard fails and hands the new pointer back.
ktest("rcu_compare_exchange_through_stale_guard", () => {
  const rcu = new Rcu(BoxPtr(u32), Box.new(u32, 1));
  const stale = rcu.read();
  const fresh = rcu.read();
  assert(fresh.compare_exchange(Box.new(u32, 2)).ok, "the first exchange wins");
  const r = stale.compare_exchange(Box.new(u32, 3));
  assert(!r.ok, "the stale guard's exchange fails");
  if (!r.ok && r.error !== null) {
    assert_eq(r.error.read(), 3);
    r.error.drop();
  }
  synchronize_rcu();
  const g = rcu.read();
  assert_eq(g.get().read(), 2);
  g.release();
  rcu.drop();
});

// `finish_grace_period` outside any read-side critical section: this CPU reports its quiescent state.
ktest("finish_grace_period_outside_read_side", () => {
  const rcu = new Rcu(BoxPtr(u32), Box.new(u32, 1));
  rcu.update(Box.new(u32, 2));
  assert(!in_atomic_mode(), "not in a read-side section");
  unsafe: {
    finish_grace_period();
  }
  rcu_barrier();
  rcu.drop();
});

// `RcuDrop::into_inner`: the caller takes the value back and drops it itself after a grace period.
ktest("rcu_drop_into_inner", () => {
  let dropped = 0;
  const d = new RcuDrop({ drop: () => dropped++ });
  let inner: { drop(): void };
  unsafe: {
    inner = RcuDrop.into_inner(d);
  }
  synchronize_rcu();
  inner.drop();
  assert_eq(dropped, 1);
});
