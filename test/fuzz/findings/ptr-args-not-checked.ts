// FIXED by commit 771fdc9 (kept as a regression test: fuzz.test.ts runs it and expects no internal
// error). FINDING (fuzz, at HEAD 093636b): `p.offset_from(x)` with an `x` that is no pointer fails
// inside kmiri: `internal error in kmiri: TypeError: Cannot read properties of undefined (reading
// 'address')` (after commit 6d0f2b2 made `Ptr`'s fields private: `Cannot read private member
// #provenance from an object whose class did not declare it`, for any non-pointer `x`), exit status
// 2. `p.with_addr(undefined)` (or an object without a prototype) makes a pointer whose printing
// fails inside kmiri the same way (`Ptr.toString`: `this.address.toString`).
//
// src/shims/checked/memory.ts `offset_from` (≈ line 117) reads `origin.address` /
// `origin.provenance` without the `instanceof Ptr` check that `copy`, `dealloc`... make (`notAPtr`,
// E0308); `with_addr` (≈ line 209) stores any `addr` (a `usize` argument: `checkIntArg`, as
// `ptr_from_exposed` does). At HEAD (093636b) the counts of `add`, `sub`, `offset`, `byte_add`,
// `byte_sub`, `wrapping_add`, `wrapping_sub` were unchecked too (a bigint count: `Cannot mix BigInt
// and other types`); commit 24bd166 checks them (E0308).
//
// Generator features: `misuse.arg.Ptr.offset_from.1.*`,
// `misuse.arg.Ptr.with_addr.1.{undefined,nullproto}`.
import { alloc_zeroed, dealloc, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const p = alloc_zeroed(u32);
    console.log(p.offset_from(undefined as any));
    dealloc(p, u32);
  }
}
