// Asterinas commit 8e3212449 ("Fix the undefined behavior of transmute slices in VmIo"), before
// the fix (framework/aster-frame/src/mm/io.rs). `VmIo::write_slice::<T>(offset, slice: &[T])`
// turned the slice into bytes with `core::mem::transmute::<&[T], &[u8]>(slice)`. A slice
// reference is a pointer and an element count; the transmute keeps the count, so the byte slice
// is `len` bytes long instead of `len * size_of::<T>()` (and relies on the unspecified layout of
// slice references). `write_bytes` then copies only the first `len` bytes; `read_slice` had the
// same bug. Nothing fails at the copy: the data is silently cut. Here a frame allocated without
// zeroing (`uninit(true)`: "should not be read before writing") is filled with four `u32`s and
// the second is read back: its bytes were never written, and reading them as a `u32` is UB.
import { array, assert, local, maybe_uninit, u32, u8, type Layout, type Ptr } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memcpy_volatile, memory_regions, paddr_to_vaddr } from "kmiri/mirch";

/** `&[T]`: a pointer and a number of elements. */
interface Slice<T> {
  ptr: Ptr<T>;
  len: number;
}

/** `core::mem::transmute::<&[T], &[u8]>(slice)`: the same pointer, the same length. */
function transmute_to_bytes<T>(slice: Slice<T>): Slice<number> {
  "unsafe";
  return { ptr: slice.ptr.cast(u8), len: slice.len };
}

/** A frame (`VmFrame`), with its `VmIo` methods. Its memory is untyped. */
class Frame {
  constructor(readonly paddr: number) {}

  /** Copies `buf` to the frame at `offset` (through a `VmReader` and a `VmWriter`). */
  write_bytes(offset: number, buf: Slice<number>): void {
    assert(offset + buf.len <= PAGE_SIZE, "Error::InvalidArgs"); // `Err` in OSTD
    unsafe: {
      memcpy_volatile(paddr_to_vaddr(this.paddr) + offset, buf.ptr.expose_provenance(), buf.len);
    }
  }

  /** `VmIo::write_slice`. */
  write_slice<T>(offset: number, slice: Slice<T>): void {
    unsafe: {
      const buf = transmute_to_bytes(slice);
      this.write_bytes(offset, buf);
    }
  }

  /** `VmIo::read_val`: `T::new_uninit()`, then `read_bytes` into its bytes. */
  read_val<T>(offset: number, layout: Layout<T>): T {
    const val = local(maybe_uninit(layout));
    unsafe: {
      memcpy_volatile(val.as_ptr().expose_provenance(), paddr_to_vaddr(this.paddr) + offset, layout.size);
      return val.as_ptr().cast(layout).read(); //~ ERROR: uninit
    }
  }
}

/** `FrameAllocOptions::new(1).uninit(true).alloc_single()`: a frame that is not zeroed. */
function alloc_single_uninit(): Frame {
  const paddr = memory_regions().find((r) => r.kind === "ram")!.start;
  unsafe: {
    alloc_pages(paddr, 1); // RAM is uninitialised at boot
  }
  return new Frame(paddr);
}

export function main(): void {
  const frame = alloc_single_uninit();
  const entries = local(array(u32, 4), [0x11, 0x22, 0x33, 0x44]);
  frame.write_slice(0, { ptr: entries.as_ref().as_ptr().cast(u32), len: 4 });
  console.log(frame.read_val(4, u32)); // the second entry
  unsafe: {
    dealloc_pages(frame.paddr, 1);
  }
}
