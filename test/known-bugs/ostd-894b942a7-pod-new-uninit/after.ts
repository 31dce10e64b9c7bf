// Asterinas commit 894b942a7 ("Avoid all `Pod::new_uninit`s in OSTD"): the fix of before.ts.
// `VmReader::read_val` reads into a `MaybeUninit<T>` through a `VmWriter` made from
// `val.as_mut_ptr()`, and calls `assume_init` only after the copy has written every byte
// (`debug_assert!(!writer.has_avail())`). (`VmIo::read_val`, which calls a `read` that OSTD does not
// implement itself and so cannot trust to fill the value, starts from `T::new_zeroed()` instead.)
import { local, maybe_uninit, struct, u32, u64, type Layout } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memcpy_volatile, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

/** A `#[derive(Pod)] #[repr(C)]` request header. */
const BlkReqHead = struct("BlkReqHead", { req_type: u32, reserved: u32, sector: u64 });

/** `VmReader<'_, Infallible>` over `[cursor, end)` (kernel virtual addresses). */
class VmReader {
  constructor(private cursor: number, private readonly end: number) {}
  remain(): number {
    return this.end - this.cursor;
  }
  /** `read_val::<T>()`: `Err(InvalidArgs)` (null here) when fewer than `size_of::<T>()` bytes remain. */
  read_val<T>(layout: Layout<T>): T | null {
    if (this.remain() < layout.size) return null;
    const val = local(maybe_uninit(layout)); // `MaybeUninit::<T>::uninit()`
    unsafe: {
      // `VmWriter::from_kernel_space(val.as_mut_ptr().cast(), size_of::<T>())`, then `self.read(&mut writer)`.
      memcpy_volatile(val.as_ptr().expose_provenance(), this.cursor, layout.size);
      this.cursor += layout.size;
      return val.as_ptr().cast(layout).read(); // `val.assume_init()`: every byte was written
    }
  }
}

export function main(): void {
  const frame = memory_regions().find((r) => r.kind === "ram")!.start;
  unsafe: {
    alloc_pages(frame, 1);
    memset_volatile(paddr_to_vaddr(frame), 0, PAGE_SIZE);
    phys_ptr(frame + 8, u64).write_volatile(0x2000n); // the header's sector
  }
  const head = new VmReader(paddr_to_vaddr(frame), paddr_to_vaddr(frame) + PAGE_SIZE).read_val(BlkReqHead);
  console.log("sector", head!.sector);
  unsafe: {
    dealloc_pages(frame, 1);
  }
}
