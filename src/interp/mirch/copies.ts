/**
 * Mirch's copies and fills: `memcpy_volatile` / `memset_volatile` between kernel addresses (OSTD's
 * infallible `VmReader`/`VmWriter`), and the fallible ones that reach user memory through the MMU
 * (`__memcpy_fallible`, `__memset_fallible`, `__atomic_load_fallible`,
 * `__atomic_cmpxchg_fallible`).
 *
 * A copy moves bytes and their initialisation, never pointer provenance (mirch.d.ts), page by
 * page: each side of each piece is checked as a volatile access of its own — the kernel side like
 * any access (live, in bounds, page state, DMA ownership, races on typed memory, borrow stacks
 * with the allocation's root tag), the user side translated through the current CPU's TLB and
 * active table, where a fault is no UB: the kernel's page-fault handler runs, and the copy stops
 * at the faulting byte when the fault stays.
 *
 * @module
 */
import { KERNEL_BASE, LINEAR_MAPPING_BASE, PAGE_SIZE } from "../../mirch/constants.js";
import { accessRange, addressIn, borrowAccess } from "../memory/access.js";
import { WILDCARD, type Allocation } from "../memory/allocation.js";
import { UNTAGGED } from "../../borrowtracker/hooks.js";
import { isMirchKernelAddress } from "./pointers.js";
import { physSlot } from "./physical-pages.js";
import type { MirchMachine } from "./mirch-machine.js";

/** A checked place of one piece of a copy: its allocation and the offset in it. */
interface Place {
  readonly a: Allocation;
  readonly off: number;
}

/** Bytes from `addr` to the end of its page. */
const toPageEnd = (addr: number): number => PAGE_SIZE - (addr % PAGE_SIZE);

/**
 * Checks `n` bytes at kernel address `addr` (not crossing a page of Mirch's) for a volatile
 * access: the allocation and offset. Reports what is wrong.
 */
function kernelPlace(mm: MirchMachine, addr: number, n: number, write: boolean): Place {
  const memory = mm.memory;
  let prov: Allocation | null;
  if (isMirchKernelAddress(addr)) prov = mm.pointer(addr).provenance;
  else if (addr >= KERNEL_BASE) prov = WILDCARD;
  else {
    // A user address where a kernel one is needed: translated as the kernel would, with no fault handler.
    const paddr = mm.translateKernelOrUser(addr, write);
    return kernelPlace(mm, LINEAR_MAPPING_BASE + paddr, n, write);
  }
  const before = memory.accessMode;
  memory.accessMode = "volatile";
  memory.accessLayout = null;
  let a: Allocation | null;
  try {
    a = accessRange(memory, addr, prov, n, 1, write);
  } finally {
    memory.accessMode = before;
  }
  const off = addressIn(memory, addr, prov) - a!.base;
  if (memory.races.active) {
    if (write) memory.races.write(a!, off, n);
    else memory.races.read(a!, off, n);
  }
  const slot = physSlot(a!);
  // Physical pages are reached by address through their (exposed) root; any other allocation —
  // `kmiri/rt` memory at a kernel-image address — by a bare address, which is a wildcard access
  // (Miri: an integer cast to a pointer), checked against the tags the program exposed.
  if (a!.borrows !== null) borrowAccess(memory, a!, write ? 1 : 0, slot !== null ? slot.root : UNTAGGED, off, n);
  return { a: a!, off };
}

/** The place of `n` bytes at user address `vaddr` (`null` on a fault the handler did not fix). */
function userPlace(mm: MirchMachine, vaddr: number, n: number, write: boolean): Place | null {
  const paddr = mm.translateUser(vaddr, write);
  if (paddr === null) return null;
  const a = mm.pages.at(paddr);
  if (a === null) return mm.reportNoPage(paddr, vaddr);
  return { a, off: LINEAR_MAPPING_BASE + paddr - a.base };
}

/** Moves `n` bytes (and their initialisation) from `src` to `dst`; forgets pointers stored at `dst`. */
function moveBytes(src: Place, dst: Place, n: number): void {
  const s = src.a;
  const d = dst.a;
  const from = new Uint8Array(s.view.buffer, s.view.byteOffset + src.off, n).slice();
  new Uint8Array(d.view.buffer, d.view.byteOffset + dst.off, n).set(from);
  if (d.ptrs !== null) d.forgetPtrs(dst.off, n);
  const init = s.init;
  if (init === null) {
    d.markInit(dst.off, n);
    return;
  }
  for (let i = 0; i < n; ) {
    const on = init[src.off + i] === 1;
    let j = i;
    while (j < n && (init[src.off + j] === 1) === on) j++;
    if (on) d.markInit(dst.off + i, j - i);
    else d.markUninit(dst.off + i, j - i);
    i = j;
  }
}

/** Sets `n` bytes at `dst` to `byte`. */
function fillBytes(dst: Place, byte: number, n: number): void {
  const d = dst.a;
  new Uint8Array(d.view.buffer, d.view.byteOffset + dst.off, n).fill(byte);
  if (d.ptrs !== null) d.forgetPtrs(dst.off, n);
  d.markInit(dst.off, n);
}

/** The physical address of kernel address `addr` when it is MMIO (linear or mapped), else -1. */
function mmioOf(mm: MirchMachine, addr: number, write: boolean): number {
  if (!isMirchKernelAddress(addr)) return -1;
  const paddr = mm.translateKernel(addr, write, false)!;
  return mm.isMmioHole(paddr) ? paddr : -1;
}

/** Device accesses of at most 8 naturally aligned bytes covering `[paddr, paddr + n)`. */
function mmioPieces(paddr: number, n: number, each: (at: number, size: 1 | 2 | 4 | 8, i: number) => void): void {
  for (let i = 0; i < n; ) {
    const at = paddr + i;
    const left = n - i;
    const size = ([8, 4, 2, 1] as const).find((k) => k <= left && at % k === 0)!;
    each(at, size, i);
    i += size;
  }
}

/** Reads `n` bytes of MMIO at `paddr` through the device (volatile accesses of at most 8 bytes). */
function readMmio(mm: MirchMachine, paddr: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  mmioPieces(paddr, n, (at, size, i) => {
    const v = mm.devices.copyAccess(at, size, false);
    for (let k = 0; k < size; k++) out[i + k] = Number((v >> BigInt(8 * k)) & 0xffn);
  });
  return out;
}

/** Writes `bytes` to MMIO at `paddr` through the device. */
function writeMmio(mm: MirchMachine, paddr: number, bytes: Uint8Array): void {
  mmioPieces(paddr, bytes.length, (at, size, i) => {
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[i + k]!);
    mm.devices.copyAccess(at, size, true, v);
  });
}

/** A device-memory place of a copy: `{ mmio: paddr }`. */
interface MmioPlace {
  readonly mmio: number;
}

/** Moves `n` bytes between any two places, device memory included. */
function transfer(mm: MirchMachine, src: Place | MmioPlace, dst: Place | MmioPlace, n: number): void {
  if (!("mmio" in src) && !("mmio" in dst)) return moveBytes(src, dst, n);
  const bytes = "mmio" in src ? readMmio(mm, src.mmio, n) : new Uint8Array(src.a.view.buffer, src.a.view.byteOffset + src.off, n).slice();
  if ("mmio" in dst) writeMmio(mm, dst.mmio, bytes);
  else {
    new Uint8Array(dst.a.view.buffer, dst.a.view.byteOffset + dst.off, n).set(bytes);
    if (dst.a.ptrs !== null) dst.a.forgetPtrs(dst.off, n);
    dst.a.markInit(dst.off, n);
  }
}

/** The checked place of one side of a kernel copy, device memory included. */
function kernelSide(mm: MirchMachine, addr: number, n: number, write: boolean): Place | MmioPlace {
  const paddr = mmioOf(mm, addr, write);
  return paddr >= 0 ? { mmio: paddr } : kernelPlace(mm, addr, n, write);
}

/** `memcpy_volatile(dst, src, len)`. */
export function memcpyVolatile(mm: MirchMachine, dst: number, src: number, len: number): void {
  for (let done = 0; done < len; ) {
    const n = Math.min(len - done, toPageEnd(src + done), toPageEnd(dst + done));
    const s = kernelSide(mm, src + done, n, false);
    const d = kernelSide(mm, dst + done, n, true);
    transfer(mm, s, d, n);
    done += n;
  }
}

/** `memset_volatile(dst, byte, len)`. */
export function memsetVolatile(mm: MirchMachine, dst: number, byte: number, len: number): void {
  for (let done = 0; done < len; ) {
    const n = Math.min(len - done, toPageEnd(dst + done));
    const d = kernelSide(mm, dst + done, n, true);
    if ("mmio" in d) writeMmio(mm, d.mmio, new Uint8Array(n).fill(byte));
    else fillBytes(d, byte, n);
    done += n;
  }
}

/** Whether `addr` is a user address (the fallible copies translate it through the MMU). */
const isUser = (addr: number): boolean => addr < KERNEL_BASE;

/** `memcpy_fallible(dst, src, len)`: the bytes not copied (0 on success). */
export function memcpyFallible(mm: MirchMachine, dst: number, src: number, len: number): number {
  for (let done = 0; done < len; ) {
    const n = Math.min(len - done, toPageEnd(src + done), toPageEnd(dst + done));
    const s = isUser(src + done) ? userPlace(mm, src + done, n, false) : kernelSide(mm, src + done, n, false);
    if (s === null) return len - done;
    const d = isUser(dst + done) ? userPlace(mm, dst + done, n, true) : kernelSide(mm, dst + done, n, true);
    if (d === null) return len - done;
    transfer(mm, s, d, n);
    done += n;
  }
  return 0;
}

/** `memset_fallible(dst, byte, len)`: the bytes not set. */
export function memsetFallible(mm: MirchMachine, dst: number, byte: number, len: number): number {
  for (let done = 0; done < len; ) {
    const n = Math.min(len - done, toPageEnd(dst + done));
    const d = isUser(dst + done) ? userPlace(mm, dst + done, n, true) : kernelSide(mm, dst + done, n, true);
    if (d === null) return len - done;
    if ("mmio" in d) writeMmio(mm, d.mmio, new Uint8Array(n).fill(byte));
    else fillBytes(d, byte, n);
    done += n;
  }
  return 0;
}

/** The u32 at a place (its bytes as they are: user memory holds whatever a user wrote). */
function readU32(p: Place): number {
  return p.a.view.getUint32(p.off, true);
}

/** `atomic_load_fallible(vaddr)`: the u32, or -1 on a fault it could not fix. */
export function atomicLoadFallible(mm: MirchMachine, vaddr: number): number {
  alignedU32(mm, vaddr, "atomic_load_fallible");
  const p = isUser(vaddr) ? userPlace(mm, vaddr, 4, false) : kernelPlace(mm, vaddr, 4, false);
  return p === null ? -1 : readU32(p);
}

/** `atomic_cmpxchg_fallible(vaddr, current, next)`: the previous value, or -1 on a fault it could not fix. */
export function atomicCmpxchgFallible(mm: MirchMachine, vaddr: number, current: number, next: number): number {
  alignedU32(mm, vaddr, "atomic_cmpxchg_fallible");
  const p = isUser(vaddr) ? userPlace(mm, vaddr, 4, true) : kernelPlace(mm, vaddr, 4, true);
  if (p === null) return -1;
  const old = readU32(p);
  if (old === current >>> 0) {
    p.a.view.setUint32(p.off, next >>> 0, true);
    p.a.markInit(p.off, 4);
  }
  return old;
}

function alignedU32(mm: MirchMachine, vaddr: number, fn: string): void {
  if (!Number.isInteger(vaddr) || vaddr % 4 !== 0) {
    mm.report("misaligned", `\`${fn}\` of 0x${Number(vaddr).toString(16)}: an atomic u32 access needs a 4-byte aligned address`, { label: "misaligned atomic access" });
  }
}
