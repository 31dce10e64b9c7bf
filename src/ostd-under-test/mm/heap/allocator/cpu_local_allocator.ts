// OSDK's `heap-allocator/src/cpu_local_allocator.rs` (osdk/deps/heap-allocator), re-written for
// kmiri: allocation of dynamically allocated CPU-local objects of up to 32 bytes, from chunks
// (`DynCpuLocalChunk`) kept per item size behind a spin lock.
//
// Design. `T` is a kmiri layout. kmiri layouts have no `#[repr(align(N))]` beyond their fields'
// alignment (8 at most), so the alignment of the layout (Rust's `align_of::<T>()`) may be given
// explicitly; it chooses the size class with the size, as `Layout::from_size_align` does upstream.
import { align_of, panic, size_of, type Layout, type Ref } from "kmiri/rt";
import type { Error } from "../../frame/allocator.js";
import { Err, Ok, type Result } from "../../frame/meta.js";
import { SpinLock } from "../../../sync/spin.js";
import { class_from_layout } from "./allocator.js";
import { DynCpuLocalChunk, type DynamicCpuLocal } from "./dyn_cpu_local.js";

/** `CpuLocalAllocator<ITEM_SIZE>`: the chunks of one item size. */
class CpuLocalAllocator {
  private readonly chunks: SpinLock<DynCpuLocalChunk[]>;

  constructor(
    private readonly item_size: number,
    name: string,
  ) {
    this.chunks = SpinLock.static_([], name);
  }

  /** `alloc`: an object in the first chunk with room, or in a new chunk. */
  alloc<T>(layout: Layout<T>, align: number, init_values: (cpu: number) => T): Result<DynamicCpuLocal<T>, Error> {
    const chunks = this.chunks.lock();
    try {
      for (const chunk of chunks.value) {
        if (!chunk.is_full()) return Ok(chunk.alloc(layout, align, init_values)!);
      }
      const new_chunk = DynCpuLocalChunk.new(this.item_size);
      if (!new_chunk.ok) return new_chunk;
      const cpu_local = new_chunk.value.alloc(layout, align, init_values)!;
      chunks.value.push(new_chunk.value);
      return Ok(cpu_local);
    } finally {
      chunks.release();
    }
  }

  /** `dealloc`: frees the object in its chunk; a chunk left empty goes when another one is empty too. */
  dealloc<T>(cpu_local: DynamicCpuLocal<T>): void {
    const chunks = this.chunks.lock();
    try {
      const list = chunks.value;
      let chunk_index: number | null = null;
      for (let i = 0; i < list.length; i++) {
        const r = list[i]!.try_dealloc(cpu_local);
        if (r.ok) {
          chunk_index = i;
          break;
        }
        cpu_local = r.error;
      }
      if (chunk_index === null) panic("called `Option::unwrap()` on a `None` value");
      if (list[chunk_index]!.is_empty() && list.filter((c) => c.is_empty()).length > 1) {
        // `swap_remove`, and the removed chunk drops.
        const removed = list[chunk_index]!;
        list[chunk_index] = list[list.length - 1]!;
        list.pop();
        removed.drop();
      }
    } finally {
      chunks.release();
    }
  }
}

/** `CpuLocalBox<T>`: a CPU-local object freed on `drop()`. */
export class CpuLocalBox<T> {
  constructor(
    private inner: DynamicCpuLocal<T> | null,
    /** `align_of::<T>()`. */
    private readonly align: number,
  ) {}

  private get(): DynamicCpuLocal<T> {
    if (this.inner === null) panic("use of a dropped `CpuLocalBox`");
    return this.inner;
  }

  /** `Deref` then `get_on_cpu`. */
  get_on_cpu(cpu: number): Ref<T> {
    return this.get().get_on_cpu(cpu);
  }

  /** `Drop`. */
  drop(): void {
    const cpu_local = this.get();
    this.inner = null;
    dealloc_cpu_local(cpu_local, this.align);
  }
}

const ALLOCATOR_8 = new CpuLocalAllocator(8, "heap_allocator::ALLOCATOR_8");
const ALLOCATOR_16 = new CpuLocalAllocator(16, "heap_allocator::ALLOCATOR_16");
const ALLOCATOR_32 = new CpuLocalAllocator(32, "heap_allocator::ALLOCATOR_32");

/** The allocator of a size class (8, 16 or 32 bytes), or none. */
function allocator_for(size: number, align: number): CpuLocalAllocator | null {
  switch (class_from_layout({ size, align })) {
    case 8:
      return ALLOCATOR_8;
    case 16:
      return ALLOCATOR_16;
    case 32:
      return ALLOCATOR_32;
    default:
      // TODO upstream: larger objects (a `Vec` of `num_cpus()` entries would do).
      return null;
  }
}

/**
 * `alloc_cpu_local`: a CPU-local object of `layout` (at most 32 bytes), each CPU's copy
 * `init_values(cpu)`. `align` is `align_of::<T>()` (default: the layout's).
 */
export function alloc_cpu_local<T>(
  layout: Layout<T>,
  init_values: (cpu: number) => T,
  align: number = align_of(layout),
): Result<CpuLocalBox<T>, Error> {
  const allocator = allocator_for(size_of(layout), align);
  if (allocator === null) return Err("InvalidArgs");
  const cpu_local = allocator.alloc(layout, align, init_values);
  if (!cpu_local.ok) return cpu_local;
  return Ok(new CpuLocalBox(cpu_local.value, align));
}

/** `dealloc_cpu_local`. */
function dealloc_cpu_local<T>(cpu_local: DynamicCpuLocal<T>, align: number): void {
  const layout = cpu_local.get_ptr_on_target(0).layout;
  const allocator = allocator_for(size_of(layout), align);
  if (allocator === null) panic("not yet implemented");
  allocator.dealloc(cpu_local);
}
