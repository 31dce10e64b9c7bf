// Asterinas commit 8e3212449 ("Fix the undefined behavior of transmute slices in VmIo"): the fix
// of before.ts. `write_slice` builds the byte slice explicitly,
// `slice::from_raw_parts(slice as *const [T] as *const u8, size_of_val(slice))`: its length is the
// slice's size in bytes, so all four `u32`s reach the frame and the one read back is initialised.
import { array, assert, local, maybe_uninit, size_of, u32, u8, type Layout, type Ptr } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memcpy_volatile, memory_regions, paddr_to_vaddr } from "kmiri/mirch";

/** `&[T]`: a pointer and a number of elements. */
interface Slice<T> {
  ptr: Ptr<T>;
  len: number;
}

/** `slice::from_raw_parts(slice as *const [T] as *const u8, size_of_val(slice))`. */
function as_byte_slice<T>(slice: Slice<T>): Slice<number> {
  "unsafe";
  const len_in_bytes = slice.len * size_of(slice.ptr.layout);
  return { ptr: slice.ptr.cast(u8), len: len_in_bytes };
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
      const buf = as_byte_slice(slice);
      this.write_bytes(offset, buf);
    }
  }

  /** `VmIo::read_val`: `T::new_uninit()`, then `read_bytes` into its bytes. */
  read_val<T>(offset: number, layout: Layout<T>): T {
    const val = local(maybe_uninit(layout));
    unsafe: {
      memcpy_volatile(val.as_ptr().expose_provenance(), paddr_to_vaddr(this.paddr) + offset, layout.size);
      return val.as_ptr().cast(layout).read();
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
