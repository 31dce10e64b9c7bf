// OSTD's `sync/rwlock.rs`: a spin-based reader-writer lock with an upgradeable reader, its state
// in one atomic word in kmiri memory (so the race detector sees the orderings that order the
// critical sections), the protected value held alongside (a JavaScript value, as `SpinLock`'s).
//
// Lockdep: kmiri's `lock_acquired` has no shared mode, so the read side is annotated as a class of
// its own, `<class>:read`, on a second anchor byte of the lock (so that a reader and the
// upgradeable reader of one thread are two lock instances), and only for the outermost read lock a
// context (a CPU's thread, or its interrupt handlers) holds of one lock — OSTD's readers may
// recurse. The write side and the upgradeable reader are annotated as `<class>` on the lock word.
// With the `WriteIrqDisabled` guardian, readers are not annotated at all: its point is that
// interrupt handlers take the read side while threads read with interrupts on, which lockdep's
// irq rule, applied to an exclusive class, would report.
import { AtomicU64, Box, lock_acquired, lock_released, panic, spin_loop, static_, struct, u8, type Box as BoxT, type Ref } from "kmiri/rt";
import { in_interrupt } from "../arch/irq.js";
import { current_cpu } from "./cpu.js";
import { PreemptDisabled, type AtomicModeGuard, type SpinGuardian } from "./guard.js";

// The lock word, as OSTD's (on 64-bit): bit 63 writer, bit 62 upgradeable reader, bit 61 an
// upgrade in progress, bits 60-0 the reader count (bit 60 a sentinel that caps it).
const READER = 1n;
const WRITER = 1n << 63n;
const UPGRADEABLE_READER = 1n << 62n;
const BEING_UPGRADED = 1n << 61n;
const MAX_READER = 1n << 60n;
const U64_MAX = (1n << 64n) - 1n;

/** The lock's memory: the word, and a byte that only anchors the read side's lockdep instance. */
const RwLockWord = struct("RwLock", { lock: AtomicU64, read_anchor: u8 });
type WordV = { lock: bigint; read_anchor: number };

/** OSTD's `RwLock<T, G>`; the guardian `G` is a constructor argument (default `PreemptDisabled`). */
export class RwLock<T> {
  private readonly mem: Ref<WordV>;
  private readonly owned: BoxT<WordV> | null;
  private inner: T;
  readonly class_name: string;
  readonly guardian: SpinGuardian;
  /** Outermost read locks per context (`cpu:irq`), for the read side's annotation. */
  private readonly readers = new Map<string, number>();

  /** `RwLock::new(val)`. Free it with {@link drop}. */
  constructor(value: T, class_name = "RwLock", guardian: SpinGuardian = PreemptDisabled) {
    this.owned = Box.new(RwLockWord, { lock: 0n, read_anchor: 0 });
    this.mem = this.owned.as_ref();
    this.inner = value;
    this.class_name = class_name;
    this.guardian = guardian;
  }

  /** A lock in a static (`static LOCK: RwLock<T>`), never freed; call it at module level. */
  static static_<T>(value: T, name: string, guardian: SpinGuardian = PreemptDisabled): RwLock<T> {
    const lock: RwLock<T> = Object.create(RwLock.prototype);
    const word = static_(RwLockWord, { lock: 0n, read_anchor: 0 }, { name });
    Object.assign(lock, { mem: word.as_ref(), owned: null, inner: value, class_name: name, guardian, readers: new Map() });
    return lock;
  }

  /** Frees a lock made with `new`; no guard may be alive. */
  drop(): void {
    this.owned?.drop();
  }

  private word(): Ref<bigint> {
    return this.mem.field("lock");
  }

  /** Acquires a read lock, spinning while a writer holds it or an upreader is upgrading. */
  read(): RwLockReadGuard<T> {
    for (;;) {
      const g = this.try_read();
      if (g !== null) return g;
      this.spin_while((w) => (w & (WRITER | MAX_READER | BEING_UPGRADED)) !== 0n);
    }
  }

  /** Acquires the write lock, spinning while anyone else holds the lock. */
  write(): RwLockWriteGuard<T> {
    for (;;) {
      const g = this.try_write();
      if (g !== null) return g;
      this.spin_while((w) => w !== 0n);
    }
  }

  /** Acquires the upgradeable read lock, spinning while a writer or another upreader holds it. */
  upread(): RwLockUpgradeableGuard<T> {
    for (;;) {
      const g = this.try_upread();
      if (g !== null) return g;
      this.spin_while((w) => (w & (WRITER | UPGRADEABLE_READER)) !== 0n);
    }
  }

  /**
   * `core::hint::spin_loop()` between two tries, spinning on a Relaxed load while `busy` (a
   * test-and-test-and-set: OSTD retries at once; the tries' guard and read-modify-writes on every
   * turn made kmiri starve the lock holder).
   */
  private spin_while(busy: (word: bigint) => boolean): void {
    do spin_loop();
    while (busy(this.word().load("Relaxed")));
  }

  /** @internal for `upgrade`'s wait. */
  static spin_while<T>(l: RwLock<T>, busy: (word: bigint) => boolean): void {
    l.spin_while(busy);
  }

  /** Tries once to take a read lock. */
  try_read(): RwLockReadGuard<T> | null {
    const guard = this.guardian.read_guard();
    const lock = this.word().fetch_add(READER, "Acquire");
    if ((lock & (WRITER | MAX_READER | BEING_UPGRADED)) === 0n) {
      this.note_read_acquired();
      return new RwLockReadGuard(this, guard);
    }
    this.word().fetch_sub(READER, "Release");
    guard.release();
    return null;
  }

  /** Tries once to take the write lock. */
  try_write(): RwLockWriteGuard<T> | null {
    const guard = this.guardian.guard();
    const rr = this.word().compare_exchange(0n, WRITER, "Acquire", "Relaxed");
    if (rr.ok) {
      lock_acquired(this.word(), this.class_name);
      return new RwLockWriteGuard(this, guard);
    }
    guard.release();
    return null;
  }

  /** Tries once to take the upgradeable read lock. */
  try_upread(): RwLockUpgradeableGuard<T> | null {
    const guard = this.guardian.guard();
    const lock = this.word().fetch_or(UPGRADEABLE_READER, "Acquire") & (WRITER | UPGRADEABLE_READER);
    if (lock === 0n) {
      lock_acquired(this.word(), this.class_name);
      return new RwLockUpgradeableGuard(this, guard);
    }
    // Only undo the bit this call set: when another upreader holds it, the bit is theirs.
    if (lock === WRITER) this.word().fetch_sub(UPGRADEABLE_READER, "Release");
    guard.release();
    return null;
  }

  /** OSTD's `get_mut`: the value, for an owner that knows no one else can lock it. */
  get_mut(): T {
    return this.inner;
  }

  private context(): string {
    return `${current_cpu()}:${in_interrupt() ? 1 : 0}`;
  }

  private note_read_acquired(): void {
    if (this.guardian.name === "WriteIrqDisabled") return;
    const ctx = this.context();
    const n = this.readers.get(ctx) ?? 0;
    this.readers.set(ctx, n + 1);
    if (n === 0) lock_acquired(this.mem.field("read_anchor"), `${this.class_name}:read`);
  }

  private note_read_released(): void {
    if (this.guardian.name === "WriteIrqDisabled") return;
    const ctx = this.context();
    const n = this.readers.get(ctx) ?? 0;
    if (n === 0) panic("RwLock: a read guard released in a context that holds none (guards are !Send)");
    if (n === 1) {
      this.readers.delete(ctx);
      lock_released(this.mem.field("read_anchor"));
    } else {
      this.readers.set(ctx, n - 1);
    }
  }

  /** @internal */
  static value<T>(l: RwLock<T>): T {
    return l.inner;
  }
  /** @internal */
  static set<T>(l: RwLock<T>, v: T): void {
    l.inner = v;
  }
  /** @internal the read guard's drop. */
  static read_unlock<T>(l: RwLock<T>): void {
    l.note_read_released();
    l.word().fetch_sub(READER, "Release");
  }
  /** @internal the write guard's drop. */
  static write_unlock<T>(l: RwLock<T>): void {
    lock_released(l.word());
    l.word().fetch_and(U64_MAX ^ WRITER, "Release");
  }
  /** @internal the upgradeable guard's drop. */
  static upread_unlock<T>(l: RwLock<T>): void {
    lock_released(l.word());
    l.word().fetch_sub(UPGRADEABLE_READER, "Release");
  }
  /** @internal `upgrade`'s first step: announce the upgrade (new readers now wait). */
  static begin_upgrade<T>(l: RwLock<T>): void {
    l.word().fetch_or(BEING_UPGRADED, "Acquire");
  }
  /** @internal `try_upgrade`: once the readers are gone, become the writer. */
  static try_upgrade<T>(l: RwLock<T>): boolean {
    return l.word().compare_exchange(UPGRADEABLE_READER | BEING_UPGRADED, WRITER | UPGRADEABLE_READER, "AcqRel", "Relaxed").ok;
  }
  /** @internal the lock word (the write side's lockdep instance). */
  static word_of<T>(l: RwLock<T>): Ref<bigint> {
    return l.word();
  }
  /** @internal the raw word, for tests. */
  static raw_word<T>(l: RwLock<T>): bigint {
    return l.word().load("Relaxed");
  }
}

abstract class GuardBase<T> {
  protected released = false;
  constructor(
    protected readonly lock: RwLock<T>,
    protected readonly guard: AtomicModeGuard,
  ) {}
  /** The protected value (`*guard`). */
  get value(): T {
    if (this.released) panic("RwLock guard used after release");
    return RwLock.value(this.lock);
  }
  protected end(): boolean {
    if (this.released) return false;
    this.released = true;
    return true;
  }
}

/** A read guard: shared access to the value; `release()` is its drop. */
export class RwLockReadGuard<T> extends GuardBase<T> {
  release(): void {
    if (!this.end()) return;
    RwLock.read_unlock(this.lock);
    this.guard.release();
  }
}

/** The write guard: exclusive access; `release()` is its drop. */
export class RwLockWriteGuard<T> extends GuardBase<T> {
  override get value(): T {
    return super.value;
  }
  override set value(v: T) {
    if (this.released) panic("RwLock guard used after release");
    RwLock.set(this.lock, v);
  }
  release(): void {
    if (!this.end()) return;
    RwLock.write_unlock(this.lock);
    this.guard.release();
  }
}

/** The upgradeable read guard: shared access, and `upgrade()` to the write guard. */
export class RwLockUpgradeableGuard<T> extends GuardBase<T> {
  /**
   * Upgrades to the write guard atomically: new readers wait from now on, and the call spins until
   * the readers already in have left. Consumes this guard.
   */
  upgrade(): RwLockWriteGuard<T> {
    if (this.released) panic("RwLock guard used after release");
    RwLock.begin_upgrade(this.lock);
    for (;;) {
      const w = this.try_upgrade();
      if (w !== null) return w;
      RwLock.spin_while(this.lock, (w) => w !== (UPGRADEABLE_READER | BEING_UPGRADED));
    }
  }

  /** OSTD's private `try_upgrade` (the `BEING_UPGRADED` bit is set only by `upgrade`). */
  private try_upgrade(): RwLockWriteGuard<T> | null {
    if (!RwLock.try_upgrade(this.lock)) return null;
    // The guard moves to the writer; dropping `self` then clears the upreader bit (and releases
    // its lockdep instance, which the writer takes over on the same word).
    const guard = this.guard.transfer_to();
    this.released = true;
    RwLock.upread_unlock(this.lock);
    this.guard.release();
    lock_acquired(RwLock.word_of(this.lock), this.lock.class_name);
    return new RwLockWriteGuard(this.lock, guard);
  }

  release(): void {
    if (!this.end()) return;
    RwLock.upread_unlock(this.lock);
    this.guard.release();
  }
}
