// OSTD's `cpu/local/dyn_cpu_local.rs` (ostd/src/cpu/local/dyn_cpu_local.rs), re-written for kmiri
// as far as OSDK's CPU-local allocator (`cpu_local_allocator.ts`) needs it: dynamically allocated
// CPU-local objects, carved out of chunks of one page per CPU. (It sits here, next to its only
// user, because the port's `cpu` module is not ported; it is OSTD code, not the allocator's.)
//
// Design. A chunk is a segment of `num_cpus()` frames (typed metadata `DynCpuLocalMeta`): CPU `i`'s
// page is the `i`-th, and an object is `ITEM_SIZE` bytes at the same offset in every page. The
// pages hold Rust objects, so they are retyped `slab` with one allocation per item (kmiri: Mirch's
// retype; OSTD has only the metadata say so). Which items are taken is the chunk's bitmap, a plain
// value owned by the chunk (its owner locks it). An object is a pointer to the BSP's copy; the
// other CPUs' copies are at `+ cpu * CHUNK_SIZE`, made from the address (`va as *mut T`).
import { panic, ptr_from_exposed, size_of, struct, type Layout, type Ptr, type Ref } from "kmiri/rt";
import { PAGE_SIZE, paddr_to_vaddr, retype_phys_pages, type Vaddr } from "../../../arch/mm.js";
import { num_cpus } from "../../../arch/cpu.js";
import { FrameAllocOptions, type Error } from "../../frame/allocator.js";
import { Err, Ok, impl_frame_meta_for, type Result } from "../../frame/meta.js";
import type { Segment } from "../../frame/segment.js";

/** The bytes of one CPU's part of a chunk. */
const CHUNK_SIZE = PAGE_SIZE;

/** The metadata of a chunk's frames (`DynCpuLocalMeta`). */
const DynCpuLocalMeta = impl_frame_meta_for("DynCpuLocalMeta", struct("DynCpuLocalMeta", {}));

/** `CpuLocal<T, DynamicStorage<T>>`: a dynamically allocated CPU-local object. */
export class DynamicCpuLocal<T> {
  /** @internal `__new_dynamic` (through `DynCpuLocalChunk::alloc`). */
  constructor(
    /** `DynamicStorage(NonNull<T>)`: the BSP's copy. */
    private readonly storage: Ptr<T>,
  ) {}

  /** `get_ptr_on_target`: CPU `cpu`'s copy. */
  get_ptr_on_target(cpu: number): Ptr<T> {
    const bsp_va = this.storage.addr();
    return ptr_from_exposed(bsp_va + cpu * CHUNK_SIZE, this.storage.layout);
  }

  /** `get_on_cpu`: a shared reference to CPU `cpu`'s copy (`T: Sync`). */
  get_on_cpu(cpu: number): Ref<T> {
    unsafe: {
      // SAFETY: the object is live (its chunk item is taken) and initialised on every CPU.
      return this.get_ptr_on_target(cpu).as_ref();
    }
  }

  /** @internal the BSP copy's address. */
  vaddr(): Vaddr {
    return this.storage.addr();
  }
}

/** `DynCpuLocalChunk<ITEM_SIZE>`. */
export class DynCpuLocalChunk {
  private constructor(
    readonly item_size: number,
    /** `ManuallyDrop<Segment<DynCpuLocalMeta>>`. */
    private readonly segment: Segment<object>,
    private readonly bitmap: boolean[],
  ) {}

  /** `new`: a chunk of one page per CPU. */
  static new(item_size: number): Result<DynCpuLocalChunk, Error> {
    if (CHUNK_SIZE % item_size !== 0) panic("assertion failed: CHUNK_SIZE.is_multiple_of(ITEM_SIZE)");
    const total_chunk_size = CHUNK_SIZE * num_cpus();
    const segment = FrameAllocOptions.new()
      .zeroed(false)
      .alloc_segment_with(Math.ceil(total_chunk_size / PAGE_SIZE), () => DynCpuLocalMeta.of({}));
    if (!segment.ok) return segment;
    unsafe: {
      // SAFETY: the frames are fresh, untyped and ours; from now on they hold CPU-local objects
      // (kmiri: Mirch's retype, one allocation per item).
      retype_phys_pages(segment.value.paddr(), segment.value.size() / PAGE_SIZE, "slab", item_size);
    }
    const num_items = CHUNK_SIZE / item_size;
    return Ok(new DynCpuLocalChunk(item_size, segment.value, new Array<boolean>(num_items).fill(false)));
  }

  /** `start_vaddr`: the BSP's part. */
  private start_vaddr(): Vaddr {
    return paddr_to_vaddr(this.segment.paddr());
  }

  /**
   * `alloc`: an object of `layout` (alignment `align`, when the layout cannot say it), each CPU's
   * copy initialised with `init_values(cpu)`; `null` when the chunk is full.
   */
  alloc<T>(layout: Layout<T>, align: number, init_values: (cpu: number) => T): DynamicCpuLocal<T> | null {
    const item_size = this.item_size;
    if ((item_size & (item_size - 1)) !== 0) panic("assertion failed: ITEM_SIZE.is_power_of_two()");
    if (size_of(layout) > item_size) panic("assertion failed: size_of::<T>() <= ITEM_SIZE");
    if (align > item_size) panic("assertion failed: align_of::<T>() <= ITEM_SIZE");

    const index = this.bitmap.indexOf(false);
    if (index < 0) return null;
    this.bitmap[index] = true;
    const vaddr = this.start_vaddr() + index * item_size;
    const cpu_local = new DynamicCpuLocal(ptr_from_exposed(vaddr, layout));
    // `CpuLocal::__new_dynamic`.
    for (let cpu = 0; cpu < num_cpus(); cpu++) {
      unsafe: {
        // SAFETY: the item was free, is inside the chunk, large and aligned enough for `T` (the
        // assertions above); no one can reach the object before we return it.
        cpu_local.get_ptr_on_target(cpu).write(init_values(cpu));
      }
    }
    return cpu_local;
  }

  /** `get_item_index`: the object's item, if it is in this chunk. */
  private get_item_index<T>(cpu_local: DynamicCpuLocal<T>): number | null {
    const offset = cpu_local.vaddr() - this.start_vaddr();
    if (offset < 0 || offset > CHUNK_SIZE) return null;
    return Math.floor(offset / this.item_size);
  }

  /** `try_dealloc`: frees the object if it is in this chunk, else gives it back. */
  try_dealloc<T>(cpu_local: DynamicCpuLocal<T>): Result<void, DynamicCpuLocal<T>> {
    const index = this.get_item_index(cpu_local);
    if (index === null) return Err(cpu_local);
    this.bitmap[index] = false;
    // `drop_in_place` of each CPU's copy: the objects kmiri layouts describe own nothing.
    return Ok(undefined);
  }

  /** `is_full`. */
  is_full(): boolean {
    return this.bitmap.every((b) => b);
  }

  /** `is_empty`. */
  is_empty(): boolean {
    return this.bitmap.every((b) => !b);
  }

  /** `Drop`: frees the chunk's frames; panics (leaking them) while objects are alive. */
  drop(): void {
    if (!this.is_empty()) panic("Dropping `DynCpuLocalChunk` while some CPU-local objects are still alive");
    this.segment.drop();
  }
}
