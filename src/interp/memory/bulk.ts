/**
 * The untyped memory operations: `ptr::copy`, `ptr::copy_nonoverlapping`, `ptr::write_bytes` and
 * `mem::transmute`. A copy moves bytes, their initialisation and the provenance of whole pointers
 * along (it is not a read: uninitialised bytes copy fine); `write_bytes` initialises bytes and
 * destroys the pointers it overwrites; a transmute writes a value as one layout and reads it back
 * as another, checking the result's initialisation and validity.
 *
 * Pointers are `(address, provenance)` pairs here, so that the module does not depend on the
 * runtime's `Ptr` class.
 */
import type { Layout } from "./layouts.js";
import { accessRange, addressIn, borrowAccess, write } from "./access.js";
import { Allocation, NO_SITE } from "./allocation.js";
import { reportUB } from "./diagnose.js";
import type { Memory } from "./memory.js";
import { invalidValueMessage, uninitValueMessage } from "./messages.js";
import { expectedValue, locate } from "./value-paths.js";

/**
 * `ptr::copy` (`nonoverlapping` false) or `ptr::copy_nonoverlapping` of `bytes` bytes from `src`
 * to `dst`, both aligned to `align`: checks both ranges (the source readable, the destination
 * writable), the borrow stacks (a read through `srcTag`, a write through `dstTag`), then, for
 * `copy_nonoverlapping`, that they do not overlap.
 */
export function copyBytes(
  m: Memory,
  srcAddr: number,
  srcProv: Allocation | null,
  dstAddr: number,
  dstProv: Allocation | null,
  bytes: number,
  align: number,
  nonoverlapping: boolean,
  srcTag: number,
  dstTag: number,
): void {
  // (A bulk operation has no layout: resolvers see bytes.)
  m.accessLayout = null;
  const sa = accessRange(m, srcAddr, srcProv, bytes, align, false);
  const so = sa === null ? 0 : addressIn(m, srcAddr, srcProv) - sa.base;
  const da = accessRange(m, dstAddr, dstProv, bytes, align, true);
  if (bytes === 0 || sa === null || da === null) return;
  const doff = addressIn(m, dstAddr, dstProv) - da.base;
  if (sa.borrows !== null && sa.borrowRead !== srcTag) borrowAccess(m, sa, 0, srcTag, so, bytes);
  if (da.borrows !== null && da.borrowWrite !== dstTag) borrowAccess(m, da, 1, dstTag, doff, bytes);
  if (nonoverlapping && sa === da && so < doff + bytes && doff < so + bytes) {
    reportUB(m, "overlapping-copy", "`copy_nonoverlapping` called on overlapping ranges");
  }
  const races = m.races;
  if (races.active) {
    // A copy reads its source and writes its destination (non-atomically).
    races.read(sa, so, bytes);
    races.write(da, doff, bytes);
  }
  da.copyFrom(sa, so, doff, bytes);
}

/** `ptr::write_bytes`: sets `bytes` bytes at `addr` (aligned to `align`) to `byte`, initialised (a write through `tag`). */
export function fillBytes(m: Memory, addr: number, prov: Allocation | null, byte: number, bytes: number, align: number, tag: number): void {
  m.accessLayout = null;
  const a = accessRange(m, addr, prov, bytes, align, true);
  if (bytes === 0 || a === null) return;
  const off = addressIn(m, addr, prov) - a.base;
  if (a.borrows !== null && a.borrowWrite !== tag) borrowAccess(m, a, 1, tag, off, bytes);
  if (m.races.active) m.races.write(a, off, bytes);
  a.bytes.fill(byte, off, off + bytes);
  a.forgetPtrs(off, bytes);
  a.markInit(off, bytes);
}

/**
 * `mem::transmute`: `value` written as `from` (into scratch memory, so that padding stays
 * uninitialised and pointers keep their provenance), read back as `to`. The sizes are equal (the
 * caller checked). Reports `uninit` when `to` needs bytes `from` left uninitialised (padding), and
 * `invalid-value` when the bytes are no valid `to`.
 */
export function transmuteValue<T, U>(m: Memory, value: T, from: Layout<T>, to: Layout<U>): U {
  const size = from.size;
  const scratch = new Allocation(m, 0, 0, size, from.align, "heap", new DataView(new ArrayBuffer(size)), false, NO_SITE);
  write(scratch, 0, from, value);
  const bad = scratch.firstUninitRanges(0, to.size, to.initRanges);
  if (bad !== null) {
    const { path, leaf } = locate(to, bad[0]);
    reportUB(m, "uninit", uninitValueMessage(to.name, path, expectedValue(leaf)));
  }
  const why = to.invalid === null ? null : to.invalid(scratch.view, 0, scratch);
  if (why !== null) reportUB(m, "invalid-value", invalidValueMessage(to.name, why));
  return to.decode(scratch.view, 0, scratch);
}
