/**
 * Miri's Stacked Borrows tests, ported as unit tests of the API: each program of
 * rust-lang/miri `tests/fail/stacked_borrows`, `tests/fail/both_borrows` (stack revision) and
 * `tests/pass/{stacked_borrows,both_borrows}` becomes the sequence of allocations, retags and
 * accesses Miri performs for it, written in our own words (the comments give the Rust line each
 * call stands for). A failing program must produce the first line of Miri's `.stderr` (with real
 * tags and allocation names instead of `<TAG>` and `ALLOC`) and its help lines; a passing program
 * must produce nothing. Sites are the line numbers of the comments, so help lines can be checked.
 */
import { describe, expect, it } from "vitest";
import { StackedBorrows } from "../../src/borrowtracker/index.js";
import { clean, findingOf, history, tagOf } from "./support.js";

const DOES_NOT_EXIST = "but that tag does not exist in the borrow stack for this location";
const ONLY_SRO = "but that tag only grants SharedReadOnly permission for this location";

/** `&mut x as *mut _` on a local: a Unique retag, then a raw retag of it. Returns [unique, raw]. */
function mutRaw(sb: StackedBorrows, id: number, parent: number, size: number, site: number): [number, number] {
  const u = tagOf(sb.retag(id, parent, 0, size, "unique", site));
  return [u, tagOf(sb.retag(id, u, 0, size, "raw-mut", site))];
}

describe("tests/fail (stack revision)", () => {
  it("illegal_read1: a callee reading through the raw pointer invalidates the &mut derived from it", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 4, "stack", 5); //       let mut x = 15;
    const [, xraw] = mutRaw(sb, 1, x, 4, 6); //            let xraw = &mut x as *mut _;
    const xref = tagOf(sb.retag(1, xraw, 0, 4, "unique", 7)); // let xref = unsafe { &mut *xraw };
    clean(sb.access(1, xraw, 0, 4, "read", 13)); //        callee: let _val = unsafe { *xraw };
    const f = findingOf(sb.access(1, xref, 0, 4, "read", 9)); // let _val = *xref;
    expect(f.message).toBe(`attempting a read access using <${xref}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(f.label).toBe("this error occurs as part of an access at alloc1[0x0..0x4]");
    expect(history(f)).toEqual([
      { message: `<${xref}> was created by a Unique retag at offsets [0x0..0x4]`, site: 7 },
      { message: `<${xref}> was later invalidated at offsets [0x0..0x4] by a read access`, site: 13 },
    ]);
  });

  it("illegal_write3: a raw pointer from a shared reference cannot write", () => {
    const sb = new StackedBorrows();
    const target = sb.newAllocation(1, 4, "stack", 3); //  let target = 42;
    const r = tagOf(sb.retag(1, target, 0, 4, "shared", 5)); // let r#ref = &target;
    const ptr = tagOf(sb.retag(1, r, 0, 4, "raw-shared", 6)); // let ptr = r#ref as *const _ as *mut _;
    const f = findingOf(sb.access(1, ptr, 0, 4, "write", 7)); // unsafe { *ptr = 42 };
    expect(f.message).toBe(`attempting a write access using <${ptr}> at alloc1[0x0], ${ONLY_SRO}`);
    expect(history(f)).toEqual([{ message: `<${ptr}> was created by a SharedReadOnly retag at offsets [0x0..0x4]`, site: 6 }]);
  });

  it("interior_mut1: a write through the cell pops the SharedReadWrite of an inner shared reference", () => {
    const sb = new StackedBorrows();
    const cell = [0, 4];
    const t = sb.newAllocation(1, 4, "stack", 4); //       UnsafeCell::new(UnsafeCell::new(0))
    const c = tagOf(sb.retag(1, t, 0, 4, "shared", 4, { cells: cell })); // let c = &…;
    const get1 = tagOf(sb.retag(1, c, 0, 4, "raw-mut", 5)); //            c.get()
    const innerUniq = tagOf(sb.retag(1, get1, 0, 4, "unique", 5)); //      let inner_uniq = &mut *c.get();
    const innerShr = tagOf(sb.retag(1, innerUniq, 0, 4, "shared", 7, { cells: cell })); // let inner_shr = &*inner_uniq;
    const get2 = tagOf(sb.retag(1, c, 0, 4, "raw-mut", 9)); //             c.get()
    clean(sb.access(1, get2, 0, 4, "write", 9)); //                        *c.get() = UnsafeCell::new(1);
    const f = findingOf(sb.retag(1, innerShr, 0, 4, "raw-shared", 11, { cells: cell })); // inner_shr.get()
    expect(f.message).toBe(`trying to retag from <${innerShr}> for SharedReadWrite permission at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(f.label).toBe("this error occurs as part of retag at alloc1[0x0..0x4]");
    expect(history(f)).toEqual([
      { message: `<${innerShr}> was created by a SharedReadWrite retag at offsets [0x0..0x4]`, site: 7 },
      { message: `<${innerShr}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 9 },
    ]);
  });

  it("invalidate_against_protector1: reading through an alias of a protected &mut argument", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 4, "stack", 8); //                       let mut x = 0;
    const [, xraw] = mutRaw(sb, 1, x, 4, 9); //                            let xraw = &mut x as *mut _;
    const xref = tagOf(sb.retag(1, xraw, 0, 4, "unique", 10)); //          let xref = unsafe { &mut *xraw };
    const y = tagOf(sb.retag(1, xref, 0, 4, "unique", 1, { protector: "strong", cause: "fn-entry", callSite: 11 })); // fn inner(x, _y: &mut i32)
    const f = findingOf(sb.access(1, xraw, 0, 4, "read", 5)); //           let _val = unsafe { *x };
    expect(f.message).toBe(`not granting access to tag <${xraw}> because that would remove [Unique for <${y}>] which is strongly protected`);
    expect(f.label).toBeUndefined();
    expect(history(f)).toEqual([
      { message: `<${xraw}> was created by a SharedReadWrite retag at offsets [0x0..0x4]`, site: 9 },
      { message: `<${y}> is this argument`, site: 1 },
    ]);
  });

  it("exposed_only_ro: with only read-only tags exposed, a wildcard cannot write", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 4, "stack", 4); //                       let mut x = 0;
    mutRaw(sb, 1, x, 4, 5); //                                             let _fool = &mut x as *mut i32;
    const shr = tagOf(sb.retag(1, x, 0, 4, "shared", 6)); //               &x
    const raw = tagOf(sb.retag(1, shr, 0, 4, "raw-shared", 6)); //         as *const i32
    sb.expose(1, raw); //                                                  .expose_provenance()
    const f = findingOf(sb.access(1, "wildcard", 0, 4, "write", 8)); //   unsafe { *ptr = 0 };
    expect(f.message).toBe(
      "attempting a write access using <wildcard> at alloc1[0x0], but no exposed tags have suitable permission in the borrow stack for this location",
    );
    expect(f.label).toBe("this error occurs as part of an access at alloc1[0x0..0x4]");
    expect(history(f)).toEqual([]);
  });

  it("illegal_dealloc1: deallocating through a pointer that a write invalidated", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 1, "heap", 4); //                        let x = alloc(…1, 1…);
    const [, ptr1] = mutRaw(sb, 1, x, 1, 5); //                            let ptr1 = (&mut *x) as *mut u8;
    const [, ptr2] = mutRaw(sb, 1, ptr1, 1, 6); //                         let ptr2 = (&mut *ptr1) as *mut u8;
    clean(sb.access(1, ptr1, 0, 1, "write", 8)); //                        ptr1.write(0);
    const f = findingOf(sb.deallocate(1, ptr2, 10)); //                    dealloc(ptr2, …);
    expect(f.message).toBe(`attempting deallocation using <${ptr2}> at alloc1, ${DOES_NOT_EXIST}`);
    expect(history(f)).toEqual([
      { message: `<${ptr2}> was created by a SharedReadWrite retag at offsets [0x0..0x1]`, site: 6 },
      { message: `<${ptr2}> was later invalidated at offsets [0x0..0x1] by a write access`, site: 8 },
    ]);
  });

  it("disable_mut_does_not_merge_srw: a disabled &mut still separates two SharedReadWrite blocks", () => {
    const sb = new StackedBorrows();
    const mem = sb.newAllocation(1, 4, "stack", 6); //                     let mut mem = 0;
    const [, base] = mutRaw(sb, 1, mem, 4, 7); //                          let base = &mut mem as *mut i32;
    const mutref = tagOf(sb.retag(1, base, 0, 4, "unique", 9)); //         let mutref = &mut *base;
    const raw = tagOf(sb.retag(1, mutref, 0, 4, "raw-mut", 10)); //        mutref as *mut i32
    clean(sb.access(1, base, 0, 4, "read", 16)); //                        let _val = *base;
    clean(sb.access(1, base, 0, 4, "write", 18)); //                       *base = 1;
    const f = findingOf(sb.access(1, raw, 0, 4, "read", 20)); //           let _val = *raw;
    expect(f.message).toBe(`attempting a read access using <${raw}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)).toEqual([
      { message: `<${raw}> was created by a SharedReadWrite retag at offsets [0x0..0x4]`, site: 10 },
      { message: `<${raw}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 18 },
    ]);
  });

  it("shared_rw_borrows_are_weak1: a SharedReadWrite goes below an existing Unique", () => {
    const sb = new StackedBorrows();
    const cell = [0, 4];
    const tmp = sb.newAllocation(1, 4, "stack", 8); //                      Cell::new(0)
    const x = tagOf(sb.retag(1, tmp, 0, 4, "unique", 8)); //               let x = &mut Cell::new(0);
    const y = tagOf(sb.retag(1, x, 0, 4, "unique", 9)); //                 let y: &mut Cell<i32> = transmute(&mut *x);
    const shrRw = tagOf(sb.retag(1, x, 0, 4, "shared", 10, { cells: cell })); // let shr_rw = &*x;
    const value = tagOf(sb.retag(1, shrRw, 0, 4, "raw-mut", 11)); //        shr_rw.set(1): self.value.get()
    tagOf(sb.retag(1, value, 0, 4, "unique", 11)); //                      … &mut *…: pops y
    const f = findingOf(sb.retag(1, y, 0, 4, "unique", 12, { cause: "two-phase" })); // y.get_mut();
    expect(f.message).toBe(`trying to retag from <${y}> for SharedReadWrite permission at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(f.label).toBe("this error occurs as part of two-phase retag at alloc1[0x0..0x4]");
    expect(history(f)).toEqual([
      { message: `<${y}> was created by a Unique retag at offsets [0x0..0x4]`, site: 9 },
      { message: `<${y}> was later invalidated at offsets [0x0..0x4] by a Unique retag`, site: 11 },
    ]);
  });

  it("fnentry_invalidation: the invalidation by a function-entry retag points at the call", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 4, "stack", 6); //                       let mut x = 0i32;
    const [, z] = mutRaw(sb, 1, x, 4, 7); //                               let z = &mut x as *mut i32;
    const self = tagOf(sb.retag(1, x, 0, 4, "unique", 14, { protector: "strong", cause: "fn-entry", callSite: 8 })); // x.do_bad();
    sb.endCall([self]);
    const f = findingOf(sb.access(1, z, 0, 4, "read", 10)); //             let _oof = *z;
    expect(f.message).toBe(`attempting a read access using <${z}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)).toEqual([
      { message: `<${z}> was created by a SharedReadWrite retag at offsets [0x0..0x4]`, site: 7 },
      { message: `<${z}> was later invalidated at offsets [0x0..0x4] by a Unique function-entry retag inside this call`, site: 8 },
    ]);
  });
});

describe("tests/fail/both_borrows (stack revision)", () => {
  it("deallocate_against_protector1: a protected &mut's memory may not be freed during the call", () => {
    const sb = new StackedBorrows();
    const heap = sb.newAllocation(1, 4, "heap", 10); //                    Box::new(0)
    const bx = tagOf(sb.retag(1, heap, 0, 4, "box", 10));
    const leaked = tagOf(sb.retag(1, bx, 0, 4, "unique", 10)); //          Box::leak(…)
    const x = tagOf(sb.retag(1, leaked, 0, 4, "unique", 5, { protector: "strong", cause: "fn-entry", callSite: 10 })); // fn inner(x: &mut i32, …)
    const cx = tagOf(sb.retag(1, x, 0, 4, "unique", 10, { protector: "strong", cause: "fn-entry", callSite: 7 })); // |x| { … }
    const raw = tagOf(sb.retag(1, cx, 0, 4, "raw-mut", 11)); //            let raw = x as *mut _;
    const b2 = tagOf(sb.retag(1, raw, 0, 4, "box", 12)); //                Box::from_raw(raw)
    const f = findingOf(sb.deallocate(1, b2, 12)); //                      drop(…)
    expect(f.message).toBe(`deallocating while item [Unique for <${cx}>] is strongly protected`);
    // Miri prints no history here; kmiri adds the protected argument.
    expect(history(f)).toEqual([{ message: `<${cx}> is this argument`, site: 10 }]);
  });

  it("box_noalias_violation: a Box argument is weakly protected", () => {
    const sb = new StackedBorrows();
    const v = sb.newAllocation(1, 4, "stack", 13); //                      let mut v = 42;
    const [, ptr] = mutRaw(sb, 1, v, 4, 14); //                            let ptr = &mut v as *mut i32;
    const fromRaw = tagOf(sb.retag(1, ptr, 0, 4, "box", 15)); //           Box::from_raw(ptr)
    const x = tagOf(sb.retag(1, fromRaw, 0, 4, "box", 1, { protector: "weak", cause: "fn-entry", callSite: 15 })); // unsafe fn test(mut x: Box<i32>, …)
    clean(sb.access(1, x, 0, 4, "write", 3)); //                           *x = 5;
    const f = findingOf(sb.access(1, ptr, 0, 4, "read", 5)); //            *y
    expect(f.message).toBe(`not granting access to tag <${ptr}> because that would remove [Unique for <${x}>] which is weakly protected`);
    expect(history(f)).toEqual([
      { message: `<${ptr}> was created by a SharedReadWrite retag at offsets [0x0..0x4]`, site: 14 },
      { message: `<${x}> is this argument`, site: 1 },
    ]);
  });

  it("illegal_read_despite_exposed1: a Unique made from a wildcard is invalidated by a wildcard write", () => {
    const sb = new StackedBorrows();
    const tmp = sb.newAllocation(1, 4, "stack", 6);
    const root = tagOf(sb.retag(1, tmp, 0, 4, "unique", 6)); //            let root = &mut 42;
    const asRaw = tagOf(sb.retag(1, root, 0, 4, "raw-mut", 7)); //         root as *mut i32
    sb.expose(1, asRaw); //                                                as usize
    const root2 = tagOf(sb.retag(1, "wildcard", 0, 4, "unique", 10)); //  let root2 = &mut *exposed_ptr;
    tagOf(sb.retag(1, root2, 0, 4, "raw-mut", 11)); //                     let _fool = root2 as *mut _;
    clean(sb.access(1, "wildcard", 0, 4, "write", 14)); //                *exposed_ptr = 0;
    const f = findingOf(sb.access(1, root2, 0, 4, "read", 16)); //         let _val = *root2;
    expect(f.message).toBe(`attempting a read access using <${root2}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)).toEqual([
      { message: `<${root2}> was created by a Unique retag at offsets [0x0..0x4]`, site: 10 },
      { message: `<${root2}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 14 },
    ]);
  });

  it("illegal_write_despite_exposed1: a shared reference made from a wildcard is popped by a wildcard write", () => {
    const sb = new StackedBorrows();
    const tmp = sb.newAllocation(1, 4, "stack", 6);
    const root = tagOf(sb.retag(1, tmp, 0, 4, "unique", 6)); //            let root = &mut 42;
    sb.expose(1, tagOf(sb.retag(1, root, 0, 4, "raw-mut", 7))); //         root as *mut i32 as usize
    const root2 = tagOf(sb.retag(1, "wildcard", 0, 4, "shared", 10)); //  let root2 = &*exposed_ptr;
    clean(sb.access(1, "wildcard", 0, 4, "write", 14)); //                *exposed_ptr = 0;
    const f = findingOf(sb.access(1, root2, 0, 4, "read", 16)); //         let _val = *root2;
    expect(f.message).toBe(`attempting a read access using <${root2}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)[0]).toEqual({ message: `<${root2}> was created by a SharedReadOnly retag at offsets [0x0..0x4]`, site: 10 });
  });

  it("outdated_local: writing a local directly invalidates the pointers to it", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 4, "stack", 4); //                       let mut x = 0;
    const y = tagOf(sb.retag(1, tagOf(sb.retag(1, x, 0, 4, "shared", 5)), 0, 4, "raw-shared", 5)); // let y: *const i32 = &x;
    clean(sb.access(1, x, 0, 4, "write", 6)); //                           x = 1;
    const f = findingOf(sb.access(1, y, 0, 4, "read", 7)); //              unsafe { *y }
    expect(f.message).toBe(`attempting a read access using <${y}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)).toEqual([
      { message: `<${y}> was created by a SharedReadOnly retag at offsets [0x0..0x4]`, site: 5 },
      { message: `<${y}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 6 },
    ]);
  });

  it("mixed_cell_deallocate: a shared reference to (Cell<i32>, i32) cannot free it", () => {
    const sb = new StackedBorrows();
    const cell = [0, 4];
    const heap = sb.newAllocation(1, 8, "heap", 13); //                    Box::new((Cell::new(0), 0))
    const b = tagOf(sb.retag(1, heap, 0, 8, "box", 13));
    const raw = tagOf(sb.retag(1, b, 0, 8, "raw-mut", 14)); //            Box::into_raw(b)
    const x = tagOf(sb.retag(1, raw, 0, 8, "shared", 7, { cells: cell, protector: "strong", cause: "fn-entry", callSite: 14 })); // fn foo(x: &T)
    const p = tagOf(sb.retag(1, x, 0, 8, "raw-shared", 9, { cells: cell })); // x as *const _ as *mut T
    const f = findingOf(sb.deallocate(1, p, 9)); //                        alloc::dealloc(…)
    expect(f.message).toBe(`attempting deallocation using <${p}> at alloc1, ${ONLY_SRO}`);
    expect(history(f)).toEqual([{ message: `<${p}> was created by a SharedReadOnly retag at offsets [0x4..0x8]`, site: 9 }]);
  });

  it("aliasing_mut1: two protected &mut arguments with the same tag", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 4, "stack", 11); //                      let mut x = 0;
    const xraw = tagOf(sb.retag(1, x, 0, 4, "unique", 12)); //             let xraw: *mut i32 = transmute(&mut x);
    const a = tagOf(sb.retag(1, xraw, 0, 4, "unique", 5, { protector: "strong", cause: "fn-entry", callSite: 18 })); // fn safe(x: &mut i32, …
    const f = findingOf(sb.retag(1, xraw, 0, 4, "unique", 5, { protector: "strong", cause: "fn-entry", callSite: 18 })); // … y: &mut i32)
    expect(f.message).toBe(`not granting access to tag <${xraw}> because that would remove [Unique for <${a}>] which is strongly protected`);
    expect(history(f)).toEqual([
      { message: `<${xraw}> was created by a Unique retag at offsets [0x0..0x4]`, site: 12 },
      { message: `<${a}> is this argument`, site: 5 },
    ]);
  });

  it("invalidate_against_protector2: writing through an alias of a protected &i32 argument", () => {
    const sb = new StackedBorrows();
    const x = sb.newAllocation(1, 4, "stack", 11); //                      let mut x = 0;
    const [, xraw] = mutRaw(sb, 1, x, 4, 12); //                           let xraw = &mut x as *mut _;
    const xref = tagOf(sb.retag(1, xraw, 0, 4, "shared", 13)); //          let xref = unsafe { &*xraw };
    const y = tagOf(sb.retag(1, xref, 0, 4, "shared", 1, { protector: "strong", cause: "fn-entry", callSite: 14 })); // fn inner(x, _y: &i32)
    const f = findingOf(sb.access(1, xraw, 0, 4, "write", 5)); //          unsafe { *x = 0 };
    expect(f.message).toBe(`not granting access to tag <${xraw}> because that would remove [SharedReadOnly for <${y}>] which is strongly protected`);
  });

  it("shr_frozen_violation1: writing through a shared reference of a &mut argument", () => {
    const sb = new StackedBorrows();
    const tmp = sb.newAllocation(1, 4, "stack", 9);
    const arg = tagOf(sb.retag(1, tmp, 0, 4, "unique", 4, { protector: "strong", cause: "fn-entry", callSite: 9 })); // fn foo(x: &mut i32)
    clean(sb.access(1, arg, 0, 4, "write", 5)); //                         *x = 5;
    const shr = tagOf(sb.retag(1, arg, 0, 4, "shared", 6)); //             &*x
    const x = tagOf(sb.retag(1, shr, 0, 4, "shared", 11, { protector: "strong", cause: "fn-entry", callSite: 6 })); // fn unknown_code(x: &i32)
    const p = tagOf(sb.retag(1, x, 0, 4, "raw-shared", 13)); //            x as *const i32 as *mut i32
    const f = findingOf(sb.access(1, p, 0, 4, "write", 13)); //            *(…) = 7;
    expect(f.message).toBe(`attempting a write access using <${p}> at alloc1[0x0], ${ONLY_SRO}`);
    expect(history(f)).toEqual([{ message: `<${p}> was created by a SharedReadOnly retag at offsets [0x0..0x4]`, site: 13 }]);
  });
});

describe("tests/pass (must run clean)", () => {
  it("basic_aliasing_model: read_does_not_invalidate1 and 2", () => {
    for (const rawFirst of [true, false]) {
      const sb = new StackedBorrows();
      const pair = sb.newAllocation(1, 8, "stack", 1); //                    &mut (1, 2)
      const x = tagOf(sb.retag(1, pair, 0, 8, "unique", 2, { protector: "strong", cause: "fn-entry" })); // fn foo(x: &mut (i32, i32))
      const xraw = tagOf(sb.retag(1, x, 0, 8, "raw-mut", 3)); //           let xraw = x as *mut (i32, i32);
      let ret = 0;
      if (rawFirst) ret = tagOf(sb.retag(1, xraw, 4, 4, "shared", 4)); //  let ret = unsafe { &(*xraw).1 };
      clean(sb.access(1, x, 4, 4, "read", 5)); //                          let _val = x.1;
      if (!rawFirst) ret = tagOf(sb.retag(1, xraw, 4, 4, "shared", 6));
      sb.endCall([x]);
      clean(sb.access(1, ret, 4, 4, "read", 7)); //                        *foo(…)
    }
  });

  it("basic_aliasing_model: mut_raw_then_mut_shr, mut_shr_then_mut_raw, mut_raw_mut", () => {
    {
      const sb = new StackedBorrows();
      const x = sb.newAllocation(1, 4, "stack", 1);
      const xref = tagOf(sb.retag(1, x, 0, 4, "unique", 2)); //            let xref = &mut x;
      const [, xraw] = mutRaw(sb, 1, xref, 4, 3); //                       let xraw = &mut *xref as *mut _;
      const xshr = tagOf(sb.retag(1, xref, 0, 4, "shared", 4)); //         let xshr = &*xref;
      clean(sb.access(1, xshr, 0, 4, "read", 5));
      clean(sb.access(1, xraw, 0, 4, "write", 6)); //                      *xraw = 4;
      clean(sb.access(1, x, 0, 4, "read", 7)); //                          assert_eq!(x, 4);
    }
    {
      const sb = new StackedBorrows();
      const tmp = sb.newAllocation(1, 4, "stack", 1);
      const xref = tagOf(sb.retag(1, tmp, 0, 4, "unique", 2)); //          let xref = &mut 2;
      tagOf(sb.retag(1, xref, 0, 4, "shared", 3)); //                      let _xshr = &*xref;
      const xraw = tagOf(sb.retag(1, xref, 0, 4, "raw-mut", 4)); //        let xraw = xref as *mut _;
      clean(sb.access(1, xraw, 0, 4, "write", 5)); //                      *xraw = 3;
      clean(sb.access(1, xref, 0, 4, "read", 6)); //                       assert_eq!(*xref, 3);
    }
    {
      const sb = new StackedBorrows();
      const x = sb.newAllocation(1, 4, "stack", 1);
      const xref1 = tagOf(sb.retag(1, x, 0, 4, "unique", 2)); //           let xref1 = &mut x;
      const xraw = tagOf(sb.retag(1, xref1, 0, 4, "raw-mut", 3)); //       let xraw = xref1 as *mut _;
      tagOf(sb.retag(1, xraw, 0, 4, "unique", 4)); //                      let _xref2 = unsafe { &mut *xraw };
      clean(sb.access(1, xref1, 0, 4, "read", 5)); //                      let _val = *xref1;
      clean(sb.access(1, xraw, 0, 4, "write", 6)); //                      *xraw = 4;
      for (const t of [xref1, xraw, xref1, xraw]) clean(sb.access(1, t, 0, 4, "read", 7));
      clean(sb.access(1, x, 0, 4, "read", 8));
    }
  });

  it("basic_aliasing_model: partially_invalidate_mut, two_raw, shr_and_raw", () => {
    {
      const sb = new StackedBorrows();
      const tmp = sb.newAllocation(1, 2, "stack", 1);
      const data = tagOf(sb.retag(1, tmp, 0, 2, "unique", 2)); //          let data = &mut (0u8, 0u8);
      const reborrow = tagOf(sb.retag(1, tagOf(sb.retag(1, data, 0, 2, "unique", 3)), 0, 2, "raw-mut", 3)); // &mut *data as *mut (u8, u8)
      const shard = tagOf(sb.retag(1, reborrow, 0, 1, "unique", 4)); //    let shard = unsafe { &mut (*reborrow).0 };
      clean(sb.access(1, data, 1, 1, "read", 5)); //                       data.1 += 1;
      clean(sb.access(1, data, 1, 1, "write", 5));
      clean(sb.access(1, shard, 0, 1, "read", 6)); //                      *shard += 1;
      clean(sb.access(1, shard, 0, 1, "write", 6));
      clean(sb.access(1, data, 0, 2, "read", 7)); //                       assert_eq!(*data, (1, 1));
    }
    {
      const sb = new StackedBorrows();
      const tmp = sb.newAllocation(1, 4, "stack", 1);
      const x = tagOf(sb.retag(1, tmp, 0, 4, "unique", 2)); //             let x = &mut 0;
      const y1 = tagOf(sb.retag(1, x, 0, 4, "raw-mut", 3)); //             let y1 = x as *mut _;
      const y2 = tagOf(sb.retag(1, x, 0, 4, "raw-mut", 4)); //             let y2 = x as *mut _;
      clean(sb.access(1, y1, 0, 4, "write", 5)); //                        *y1 += 2;
      clean(sb.access(1, y2, 0, 4, "write", 6)); //                        *y2 += 1;
    }
    {
      const sb = new StackedBorrows();
      const tmp = sb.newAllocation(1, 4, "stack", 1);
      const x = tagOf(sb.retag(1, tmp, 0, 4, "unique", 2)); //             let x = &mut 0;
      const y1 = tagOf(sb.retag(1, x, 0, 4, "shared", 3)); //              let y1: &i32 = mem::transmute(&*x);
      const y2 = tagOf(sb.retag(1, x, 0, 4, "raw-mut", 4)); //             let y2 = x as *mut _;
      clean(sb.access(1, y1, 0, 4, "read", 5)); //                         let _val = *y1;
      clean(sb.access(1, y2, 0, 4, "write", 6)); //                        *y2 += 1;
    }
  });

  it("basic_aliasing_model: disjoint_mutable_subborrows", () => {
    const sb = new StackedBorrows();
    const foo = sb.newAllocation(1, 48, "stack", 1); //                    let mut foo = Foo { a, b };
    const ptr = tagOf(sb.retag(1, tagOf(sb.retag(1, foo, 0, 48, "unique", 2)), 0, 48, "raw-mut", 2)); // &mut foo as *mut Foo
    const a = tagOf(sb.retag(1, ptr, 0, 24, "unique", 3)); //              borrow_field_a(ptr)
    const b = tagOf(sb.retag(1, ptr, 24, 24, "unique", 4)); //             borrow_field_b(ptr)
    clean(sb.access(1, b, 24, 24, "write", 5)); //                         b.push(4);
    clean(sb.access(1, a, 0, 24, "write", 6)); //                          a.push_str(" world");
  });

  it("stacked-borrows.rs: mut_raw_mut2 and two_phase_aliasing_violation (accepted under Stacked Borrows)", () => {
    {
      const sb = new StackedBorrows();
      const root = sb.newAllocation(1, 4, "stack", 1); //                  let mut root = 0;
      const [, to] = mutRaw(sb, 1, root, 4, 2); //                         let to = &mut root as *mut i32;
      clean(sb.access(1, to, 0, 4, "write", 3)); //                        *to = 0;
      clean(sb.access(1, root, 0, 4, "read", 4)); //                       let _val = root;
      clean(sb.access(1, to, 0, 4, "write", 5)); //                        *to = 0;
    }
    {
      const sb = new StackedBorrows();
      const f = sb.newAllocation(1, 8, "stack", 1); //                     let mut f = Foo(0);
      const [, alias] = mutRaw(sb, 1, f, 8, 2); //                         let alias = &mut f.0 as *mut u64;
      const twoPhase = tagOf(sb.retag(1, f, 0, 8, "unique", 3, { cause: "two-phase" })); // f.add(…)
      clean(sb.access(1, alias, 0, 8, "write", 4)); //                     *alias = 42;
      const self = tagOf(sb.retag(1, twoPhase, 0, 8, "unique", 5, { protector: "strong", cause: "fn-entry", callSite: 3 })); // fn add(&mut self, …)
      clean(sb.access(1, self, 0, 8, "read", 6)); //                       self.0 + n
      sb.endCall([self]);
    }
  });

  it("unknown-bottom-gc: shared reborrows piled on an unknown bottom are collected", () => {
    const sb = new StackedBorrows();
    const v = sb.newAllocation(1, 1, "stack", 6); //                       let mut v = 1u8;
    const [, ptr] = mutRaw(sb, 1, v, 1, 7); //                             let ptr = &mut v as *mut u8;
    sb.expose(1, ptr); //                                                  ptr.expose_provenance()
    clean(sb.access(1, "wildcard", 0, 1, "write", 12)); //                *p = 1;
    const r = tagOf(sb.retag(1, v, 0, 1, "shared", 16)); //                let r = &v;
    for (let i = 0; i < 1024; i++) tagOf(sb.retag(1, r, 0, 1, "shared", 18)); // let _x = &*r;
    expect(sb.stackAt(1, 0)!.items.length).toBe(1025);
    sb.gc(new Set([v, r]));
    expect(sb.stackAt(1, 0)).toEqual({ unknownBottom: ptr + 1, items: [{ tag: r, permission: "SharedReadOnly", protected: false }] });
    clean(sb.access(1, r, 0, 1, "read", 20));
  });
});
