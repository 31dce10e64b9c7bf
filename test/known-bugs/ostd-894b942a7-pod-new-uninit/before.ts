// Asterinas commit 894b942a7 ("Avoid all `Pod::new_uninit`s in OSTD"), before the fix
// (ostd/src/mm/io.rs). `VmReader::read_val::<T: Pod>()` made the value to read into with
// `T::new_uninit()`, which the `ostd-pod` crate implemented as
// `unsafe { MaybeUninit::uninit().assume_init() }`, then copied the bytes over it through a
// `VmWriter` on `val.as_bytes_mut()`. "Any bit pattern is a valid `Pod`" does not make
// uninitialised bytes valid: `assume_init` of an uninitialised integer is UB on the spot, before
// the copy could fill it (and `VmIo::read_val` trusted an implementer's `read` to fill it at all).
// Here a driver reads a request header back from a DMA frame.
import { local, maybe_uninit, struct, u32, u64, type Layout } from "kmiri/rt";
import { PAGE_SIZE, alloc_pages, dealloc_pages, memcpy_volatile, memory_regions, memset_volatile, paddr_to_vaddr, phys_ptr } from "kmiri/mirch";

/** A `#[derive(Pod)] #[repr(C)]` request header. */
const BlkReqHead = struct("BlkReqHead", { req_type: u32, reserved: u32, sector: u64 });

/** `Pod::new_uninit()`: `unsafe { MaybeUninit::uninit().assume_init() }`. */
function new_uninit<T>(layout: Layout<T>): T {
  unsafe: {
    return local(maybe_uninit(layout)).read(); //~ ERROR: uninit
  }
}

/** `VmReader<'_, Infallible>` over `[cursor, end)` (kernel virtual addresses). */
class VmReader {
  constructor(private cursor: number, private readonly end: number) {}
  remain(): number {
    return this.end - this.cursor;
  }
  /** `read_val::<T>()`: `Err(InvalidArgs)` (null here) when fewer than `size_of::<T>()` bytes remain. */
  read_val<T>(layout: Layout<T>): T | null {
    if (this.remain() < layout.size) return null;
    const val = local(layout, new_uninit(layout));
    unsafe: {
      // `VmWriter::from(val.as_bytes_mut())`, then `self.read(&mut writer)`.
      memcpy_volatile(val.as_ptr().expose_provenance(), this.cursor, layout.size);
    }
    this.cursor += layout.size;
    return val.read();
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
