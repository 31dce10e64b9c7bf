// Asterinas commit 561ee206f ("Make metadata repurposing sound"), before the fix
// (ostd/src/mm/frame/unique.rs). The safe `UniqueFrame::repurpose(self, metadata)` drops the old
// metadata in place (`drop_meta_in_place`: the type's `on_drop`, then its destructor), writes the
// new one, and transmutes `self`. If the old metadata's destructor panics, unwinding leaves
// `repurpose` with `self` still owned, so `self` is dropped: `UniqueFrame::drop` drops the same
// metadata a second time — `on_drop` runs on a dead object, whose `Box` the first, partial drop
// already freed. The fix wraps `self` in `ManuallyDrop` first: a panic then leaks the frame
// instead. (Metadata types are any `AnyFrameMeta`, so a destructor that panics is safe code.)
// kmiri's `panic` cannot be caught (it is an abort); Rust's unwinding, which OSTD's ktests catch
// with `catch_unwind`, is modelled by the `Unwind` exception below.
import { AtomicU64, Box, array, cell, maybe_uninit, ptr, static_, struct, u64, u8, usize, type Ptr, type Ref } from "kmiri/rt";

class Unwind extends Error {}
/** `std::panic::catch_unwind`: whether `f` returned without panicking. */
function catch_unwind(f: () => void): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof Unwind) return false;
    throw e;
  }
}

const MetaSlot = struct("MetaSlot", { storage: cell(array(u8, 16)), ref_count: AtomicU64, vtable_ptr: cell(maybe_uninit(usize)) });
type MetaSlotV = { storage: number[]; ref_count: bigint; vtable_ptr: number };
const REF_COUNT_UNUSED = 0xffff_ffff_ffff_ffffn;
const REF_COUNT_UNIQUE = 0xffff_ffff_ffff_fffen;
const SLOT = static_(MetaSlot, { storage: new Array<number>(16).fill(0), ref_count: REF_COUNT_UNUSED, vtable_ptr: 0 }, { name: "FRAME_METADATA" });

/** A page-cache frame's metadata: its inode (a `Box`), and whether it holds unwritten data. */
interface CacheMetaV { inode: Ptr<{ ino: bigint }>; dirty: bigint }
const Inode = struct("Inode", { ino: u64 });
const CacheMeta = struct("CacheMeta", { inode: ptr(Inode), dirty: u64 });
/** The vtables of the two metadata types, `CacheMeta` and `()`: `on_drop` and `drop_in_place`. */
const VTABLES: Record<number, { on_drop(m: Ptr<CacheMetaV>): void; drop_in_place(m: Ptr<CacheMetaV>): void }> = {
  1: {
    on_drop(m) {
      "unsafe";
      console.log("writeback of inode", m.field("inode").read().read().ino); //~ ERROR: use-after-free
    },
    drop_in_place(m) {
      "unsafe";
      try {
        // `impl Drop for CacheMeta`: dropping a dirty page would lose data.
        if (m.field("dirty").read() !== 0n) throw new Unwind("a dirty page-cache frame was dropped");
      } finally {
        Box.from_raw(m.field("inode").read()).drop(); // the fields are dropped, unwinding or not
      }
    },
  },
  2: { on_drop() {}, drop_in_place() {} },
};

function slot(): Ref<MetaSlotV> {
  return SLOT.as_ref();
}
function meta_ptr() {
  return slot().field("storage").get().cast(CacheMeta);
}

/** `MetaSlot::drop_meta_in_place`: `on_drop`, then the destructor. */
function drop_meta_in_place(): void {
  "unsafe";
  const vtable = VTABLES[slot().field("vtable_ptr").get().read()];
  vtable.on_drop(meta_ptr());
  vtable.drop_in_place(meta_ptr());
}

function write_meta(vtable: number, meta: CacheMetaV | null): void {
  "unsafe";
  slot().field("vtable_ptr").get().write(vtable);
  if (meta !== null) meta_ptr().write(meta);
}

/** `UniqueFrame<M>`: the sole handle of a frame. */
class UniqueFrame {
  static from_unused(vtable: number, meta: CacheMetaV): UniqueFrame {
    if (!slot().field("ref_count").compare_exchange(REF_COUNT_UNUSED, 0n, "Acquire", "Relaxed").ok) throw new Error("in use");
    unsafe: {
      write_meta(vtable, meta);
    }
    slot().field("ref_count").store(REF_COUNT_UNIQUE, "Relaxed");
    return new UniqueFrame();
  }

  /** `repurpose<M1>(self, metadata: M1) -> UniqueFrame<M1>`. */
  repurpose(vtable: number, meta: CacheMetaV | null): UniqueFrame {
    try {
      unsafe: {
        drop_meta_in_place(); // we are the sole owner and the metadata is initialised
        write_meta(vtable, meta); // we are the sole owner
      }
    } catch (e) {
      this.drop(); // unwinding drops `self`
      throw e;
    }
    return this; // `transmute(self)`
  }

  /** `impl Drop for UniqueFrame<M>`: drops the metadata and frees the frame. */
  drop(): void {
    unsafe: {
      drop_meta_in_place();
    }
    slot().field("ref_count").store(REF_COUNT_UNUSED, "Release");
  }
}

export function main(): void {
  const inode = Box.into_raw(Box.new(Inode, { ino: 42n }));
  const frame = UniqueFrame.from_unused(1, { inode, dirty: 1n });
  const ok = catch_unwind(() => {
    const buffer = frame.repurpose(2, null); // `UniqueFrame<()>`
    buffer.drop();
  });
  console.log("repurpose", ok ? "returned" : "panicked");
}
