// OSTD's CPU sets (`cpu::CpuSet` and `cpu::AtomicCpuSet`, which are `util::id_set::IdSet<CpuId>` and
// `AtomicIdSet<CpuId>`; asterinas/asterinas, ostd/src/util/id_set.rs), as far as the TLB flusher
// and `VmSpace` use them. The port has no `cpu` module yet, so they live here, next to their first
// user.
//
// A set is a bit map in 64-bit parts, one bit per CPU. `CpuSet` is a plain value (Rust keeps it in
// registers or on the stack): its parts are JavaScript bigints. `AtomicCpuSet` is shared between
// CPUs (a `VmSpace`'s set of CPUs where it is active), so its parts are `AtomicU64`s in kmiri memory
// (a `Box`, freed by `drop()`), and the race detector sees the orderings its users choose.
import { AtomicU64, Box, array, assert, type Box as BoxT, type Ref } from "kmiri/rt";
import { num_cpus } from "../../arch/cpu.js";

/** CPUs per part. */
const BITS_PER_PART = 64;

/** The number of parts a set of every CPU of the Machine needs. */
function nr_parts(): number {
  return Math.ceil(num_cpus() / BITS_PER_PART);
}

/** An atomic ordering (`core::sync::atomic::Ordering`). */
export type Ordering = "Relaxed" | "Acquire" | "Release" | "AcqRel" | "SeqCst";

function part_idx(cpu: number): number {
  return Math.floor(cpu / BITS_PER_PART);
}

function bit_of(cpu: number): bigint {
  return 1n << BigInt(cpu % BITS_PER_PART);
}

/** `CpuSet`: a set of CPU ids. */
export class CpuSet {
  private constructor(readonly bits: bigint[]) {}

  /** `CpuSet::new_empty()`. */
  static new_empty(): CpuSet {
    return new CpuSet(new Array<bigint>(nr_parts()).fill(0n));
  }

  /** @internal a set from its parts (`AtomicCpuSet::load`). */
  static from_bits(bits: bigint[]): CpuSet {
    return new CpuSet(bits);
  }

  add(cpu: number): void {
    assert(cpu < num_cpus(), "CPU id out of range");
    const i = part_idx(cpu);
    this.bits[i] = this.bits[i]! | bit_of(cpu);
  }

  remove(cpu: number): void {
    const i = part_idx(cpu);
    if (i < this.bits.length) this.bits[i] = this.bits[i]! & ~bit_of(cpu);
  }

  contains(cpu: number): boolean {
    const i = part_idx(cpu);
    return i < this.bits.length && (this.bits[i]! & bit_of(cpu)) !== 0n;
  }

  /** The CPUs in the set, in increasing order (`iter()`). */
  iter(): number[] {
    const out: number[] = [];
    for (let cpu = 0; cpu < this.bits.length * BITS_PER_PART; cpu++) if (this.contains(cpu)) out.push(cpu);
    return out;
  }
}

/** `AtomicCpuSet`: a CPU set in memory, each part an `AtomicU64`. Free it with {@link drop}. */
export class AtomicCpuSet {
  private readonly mem: BoxT<bigint[]>;
  private readonly parts: Ref<bigint[]>;
  private readonly n: number;

  /** `AtomicCpuSet::new(value)`. */
  constructor(value: CpuSet) {
    this.n = value.bits.length;
    this.mem = Box.new(array(AtomicU64, this.n), value.bits.slice());
    this.parts = this.mem.as_ref();
  }

  private part(i: number): Ref<bigint> {
    return this.parts.index(i);
  }

  /**
   * `load(ordering)`: each part loaded atomically with `ordering` (the whole set is not one atomic
   * snapshot). As in OSTD, `Release` is allowed: it is then a `fetch_or(0, Release)` per part, a
   * read that also publishes the caller's earlier writes to whoever later acquires the set.
   */
  load(ordering: Ordering): CpuSet {
    const bits: bigint[] = [];
    for (let i = 0; i < this.n; i++) {
      bits.push(ordering === "Release" ? this.part(i).fetch_or(0n, "Release") : this.part(i).load(ordering));
    }
    return CpuSet.from_bits(bits);
  }

  /** `add(cpu, ordering)`: atomically sets the CPU's bit. */
  add(cpu: number, ordering: Ordering): void {
    const i = part_idx(cpu);
    if (i < this.n) this.part(i).fetch_or(bit_of(cpu), ordering);
  }

  /** `remove(cpu, ordering)`: atomically clears the CPU's bit. */
  remove(cpu: number, ordering: Ordering): void {
    const i = part_idx(cpu);
    if (i < this.n) this.part(i).fetch_and(~bit_of(cpu) & 0xffff_ffff_ffff_ffffn, ordering);
  }

  /** `contains(cpu, ordering)`. */
  contains(cpu: number, ordering: Ordering): boolean {
    const i = part_idx(cpu);
    return i < this.n && (this.part(i).load(ordering) & bit_of(cpu)) !== 0n;
  }

  /** Frees the parts (Rust drops the set with its owner). */
  drop(): void {
    this.mem.drop();
  }
}
