/**
 * Every rule of Stacked Borrows through the library API (src/borrowtracker/index.ts), with the
 * findings checked word for word against Miri's messages: access rules, retags, protectors,
 * interior mutability, wildcards and the unknown bottom, deallocation, zero-sized operations,
 * accesses spanning several runs.
 */
import { describe, expect, it } from "vitest";
import { StackedBorrows } from "../../src/borrowtracker/index.js";
import { clean, findingOf, history, tagOf } from "./support.js";

const DOES_NOT_EXIST = "but that tag does not exist in the borrow stack for this location";
const ONLY_SRO = "but that tag only grants SharedReadOnly permission for this location";
const NO_EXPOSED = "but no exposed tags have suitable permission in the borrow stack for this location";

/** The items of the stack at `offset` of allocation `id`, bottom first: `Unique<2>`, … (`?<N>`: unknown bottom). */
function stack(sb: StackedBorrows, id: number, offset = 0): string[] {
  const v = sb.stackAt(id, offset)!;
  return [...(v.unknownBottom === null ? [] : [`?<${v.unknownBottom}`]), ...v.items.map((i) => `${i.permission}<${i.tag}>`)];
}

describe("allocation", () => {
  it("stack memory starts Unique for the root tag, heap and static memory SharedReadWrite", () => {
    const sb = new StackedBorrows();
    const local = sb.newAllocation(1, 4, "stack", 10);
    const heap = sb.newAllocation(2, 4, "heap", 11);
    const stat = sb.newAllocation(3, 4, "static", 12);
    expect([local, heap, stat]).toEqual([1, 2, 3]);
    expect(stack(sb, 1)).toEqual(["Unique<1>"]);
    expect(stack(sb, 2)).toEqual(["SharedReadWrite<2>"]);
    expect(stack(sb, 3)).toEqual(["SharedReadWrite<3>"]);
    expect(sb.rootTag(2)).toBe(2);
    expect(sb.describe(1)).toEqual(["0..4: [ Unique<1> ]"]);
  });

  it("untracked allocations are not checked, and a retag there keeps the parent's tag", () => {
    const sb = new StackedBorrows();
    expect(sb.access(9, 5, 0, 4, "write", 1)).toBeNull();
    expect(sb.retag(9, 5, 0, 4, "unique", 1)).toBe(5);
    expect(sb.deallocate(9, 5, 1)).toBeNull();
    sb.expose(9, 5);
  });

  it("an access outside the allocation is the caller's bug: a RangeError, not a finding", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    expect(() => sb.access(1, root, 2, 4, "read", 2)).toThrow(RangeError);
    expect(() => sb.retag(1, root, 0, 8, "shared", 2)).toThrow(RangeError);
  });
});

describe("access rules", () => {
  it("a read through a shared reference disables the Uniques above its item (does not pop them)", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 2)); // &mut
    const raw = tagOf(sb.retag(1, u, 0, 4, "raw-mut", 3)); // as *mut
    const u2 = tagOf(sb.retag(1, raw, 0, 4, "unique", 4)); // &mut *raw
    const shr = tagOf(sb.retag(1, raw, 0, 4, "shared", 5)); // &*raw: a read through raw disables u2
    expect(stack(sb, 1)).toEqual([`SharedReadWrite<${root}>`, `Unique<${u}>`, `SharedReadWrite<${raw}>`, `Disabled<${u2}>`, `SharedReadOnly<${shr}>`]);
    clean(sb.access(1, shr, 0, 4, "read", 6));
    const f = findingOf(sb.access(1, u2, 0, 4, "read", 9));
    expect(f.message).toBe(`attempting a read access using <${u2}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(f.label).toBe("this error occurs as part of an access at alloc1[0x0..0x4]");
    expect(history(f)).toEqual([
      { message: `<${u2}> was created by a Unique retag at offsets [0x0..0x4]`, site: 4 },
      { message: `<${u2}> was later invalidated at offsets [0x0..0x4] by a SharedReadOnly retag`, site: 5 },
    ]);
    clean(sb.access(1, raw, 0, 4, "write", 7)); // raw is still there; its write pops the rest
    clean(sb.access(1, u, 0, 4, "read", 8));
    // The history names the latest invalidation.
    const g = findingOf(sb.access(1, u2, 0, 4, "read", 10));
    expect(history(g)[1]).toEqual({ message: `<${u2}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 7 });
  });

  it("a write through a Unique pops everything above it", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 8, "heap", 1);
    const u = tagOf(sb.retag(1, root, 0, 8, "unique", 2));
    const s1 = tagOf(sb.retag(1, u, 0, 8, "shared", 3));
    const r = tagOf(sb.retag(1, u, 0, 8, "raw-mut", 4)); // goes below the SharedReadOnly
    expect(stack(sb, 1)).toEqual([`SharedReadWrite<${root}>`, `Unique<${u}>`, `SharedReadWrite<${r}>`, `SharedReadOnly<${s1}>`]);
    clean(sb.access(1, u, 0, 8, "write", 5));
    expect(stack(sb, 1)).toEqual([`SharedReadWrite<${root}>`, `Unique<${u}>`]);
    for (const t of [s1, r]) {
      const f = findingOf(sb.access(1, t, 0, 8, "read", 6));
      expect(f.message).toBe(`attempting a read access using <${t}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
      expect(history(f)[1]).toEqual({ message: `<${t}> was later invalidated at offsets [0x0..0x8] by a write access`, site: 5 });
    }
  });

  it("a write through a SharedReadWrite keeps the SharedReadWrite items directly above it", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    const r1 = tagOf(sb.retag(1, root, 0, 4, "raw-mut", 2));
    const r2 = tagOf(sb.retag(1, root, 0, 4, "raw-mut", 3));
    const shr = tagOf(sb.retag(1, r1, 0, 4, "shared", 4));
    clean(sb.access(1, r1, 0, 4, "write", 5));
    clean(sb.access(1, r2, 0, 4, "write", 6));
    expect(findingOf(sb.access(1, shr, 0, 4, "read", 7)).message).toContain(DOES_NOT_EXIST);
  });

  it("a write through a SharedReadOnly tag: `only grants SharedReadOnly`", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 16, "heap", 1);
    const shr = tagOf(sb.retag(1, root, 8, 4, "shared", 2));
    const f = findingOf(sb.access(1, shr, 8, 4, "write", 3));
    expect(f.message).toBe(`attempting a write access using <${shr}> at alloc1[0x8], ${ONLY_SRO}`);
    expect(f.label).toBe("this error occurs as part of an access at alloc1[0x8..0xc]");
    expect(history(f)).toEqual([{ message: `<${shr}> was created by a SharedReadOnly retag at offsets [0x8..0xc]`, site: 2 }]);
    clean(sb.access(1, shr, 8, 4, "read", 4));
  });

  it("a tag not in the stack: `does not exist in the borrow stack`", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(7, 4, "stack", 1);
    const f = findingOf(sb.access(7, 41, 0, 4, "write", 2));
    expect(f.message).toBe(`attempting a write access using <41> at alloc7[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)).toEqual([]); // nothing is known of <41>
    clean(sb.access(7, root, 0, 4, "write", 3));
  });

  it("names the allocation as the caller says, and prints offsets in hex", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(3, 0x40, "heap", 1, "alloc1234");
    const shr = tagOf(sb.retag(3, root, 0x20, 8, "shared", 2));
    const f = findingOf(sb.access(3, shr, 0x24, 4, "write", 3));
    expect(f.message).toBe(`attempting a write access using <${shr}> at alloc1234[0x24], ${ONLY_SRO}`);
    expect(f.label).toBe("this error occurs as part of an access at alloc1234[0x24..0x28]");
    expect(history(f)[0]!.message).toBe(`<${shr}> was created by a SharedReadOnly retag at offsets [0x20..0x28]`);
  });

  it("zero-sized accesses touch nothing", () => {
    const sb = new StackedBorrows();
    sb.newAllocation(1, 4, "heap", 1);
    clean(sb.access(1, 999, 0, 0, "write", 2));
  });
});

describe("retags", () => {
  it("a retag from a tag that was popped: `trying to retag from …`, labelled as a retag", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 2));
    const shr = tagOf(sb.retag(1, u, 0, 4, "shared", 3));
    clean(sb.access(1, u, 0, 4, "write", 4));
    const f = findingOf(sb.retag(1, shr, 0, 4, "shared", 5));
    expect(f.message).toBe(`trying to retag from <${shr}> for SharedReadOnly permission at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(f.label).toBe("this error occurs as part of retag at alloc1[0x0..0x4]");
    expect(history(f)).toEqual([
      { message: `<${shr}> was created by a SharedReadOnly retag at offsets [0x0..0x4]`, site: 3 },
      { message: `<${shr}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 4 },
    ]);
  });

  it("a Unique retag from a SharedReadOnly parent: `only grants SharedReadOnly`", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const shr = tagOf(sb.retag(1, root, 0, 4, "shared", 2));
    const f = findingOf(sb.retag(1, shr, 0, 4, "unique", 3));
    expect(f.message).toBe(`trying to retag from <${shr}> for Unique permission at alloc1[0x0], ${ONLY_SRO}`);
    const g = findingOf(sb.retag(1, shr, 0, 4, "raw-mut", 3));
    expect(g.message).toBe(`trying to retag from <${shr}> for SharedReadWrite permission at alloc1[0x0], ${ONLY_SRO}`);
  });

  it("a Unique retag is a write by the parent; a shared retag a read", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    const a = tagOf(sb.retag(1, root, 0, 4, "unique", 2));
    const b = tagOf(sb.retag(1, root, 0, 4, "unique", 3)); // pops a
    expect(stack(sb, 1)).toEqual([`SharedReadWrite<${root}>`, `Unique<${b}>`]);
    const f = findingOf(sb.access(1, a, 0, 4, "read", 4));
    expect(history(f)[1]).toEqual({ message: `<${a}> was later invalidated at offsets [0x0..0x4] by a Unique retag`, site: 3 });
    const c = tagOf(sb.retag(1, root, 0, 4, "shared", 5)); // disables b
    expect(stack(sb, 1)).toEqual([`SharedReadWrite<${root}>`, `Disabled<${b}>`, `SharedReadOnly<${c}>`]);
    const g = findingOf(sb.access(1, b, 0, 4, "write", 6));
    expect(history(g)[1]).toEqual({ message: `<${b}> was later invalidated at offsets [0x0..0x4] by a SharedReadOnly retag`, site: 5 });
  });

  it("raw-mut is SharedReadWrite without an access, raw-shared SharedReadOnly with a read", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 2));
    const shr = tagOf(sb.retag(1, u, 0, 4, "shared", 3));
    const rm = tagOf(sb.retag(1, u, 0, 4, "raw-mut", 4)); // below shr, shr stays valid
    const rc = tagOf(sb.retag(1, shr, 0, 4, "raw-shared", 5));
    expect(stack(sb, 1)).toEqual([`Unique<${root}>`, `Unique<${u}>`, `SharedReadWrite<${rm}>`, `SharedReadOnly<${shr}>`, `SharedReadOnly<${rc}>`]);
    clean(sb.access(1, shr, 0, 4, "read", 6));
    expect(findingOf(sb.access(1, rc, 0, 4, "write", 7)).message).toContain(ONLY_SRO);
    clean(sb.access(1, rm, 0, 4, "write", 8));
    expect(stack(sb, 1)).toEqual([`Unique<${root}>`, `Unique<${u}>`, `SharedReadWrite<${rm}>`]);
  });

  it("a Box retag is Unique with a write access", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 8, "heap", 1);
    const shr = tagOf(sb.retag(1, root, 0, 8, "shared", 2));
    const b = tagOf(sb.retag(1, root, 0, 8, "box", 3));
    expect(stack(sb, 1)).toEqual([`SharedReadWrite<${root}>`, `Unique<${b}>`]);
    expect(findingOf(sb.access(1, shr, 0, 8, "read", 4)).message).toContain(DOES_NOT_EXIST);
  });

  it("a two-phase borrow is SharedReadWrite, and named a two-phase retag", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const alias = tagOf(sb.retag(1, root, 0, 4, "raw-mut", 2));
    const tp = tagOf(sb.retag(1, root, 0, 4, "unique", 3, { cause: "two-phase" }));
    expect(stack(sb, 1)).toEqual([`Unique<${root}>`, `SharedReadWrite<${tp}>`, `SharedReadWrite<${alias}>`]);
    clean(sb.access(1, alias, 0, 4, "write", 4)); // the aliasing write Miri accepts under SB
    clean(sb.access(1, root, 0, 4, "write", 5));
    const f = findingOf(sb.retag(1, tp, 0, 4, "unique", 6, { cause: "two-phase" }));
    expect(f.message).toBe(`trying to retag from <${tp}> for SharedReadWrite permission at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(f.label).toBe("this error occurs as part of two-phase retag at alloc1[0x0..0x4]");
  });

  it("a zero-sized retag creates a tag that exists nowhere, and says so when it is used", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 8, "heap", 1);
    const z = tagOf(sb.retag(1, root, 4, 0, "unique", 2));
    expect(stack(sb, 1)).toEqual([`SharedReadWrite<${root}>`]);
    clean(sb.access(1, z, 4, 0, "read", 3));
    const f = findingOf(sb.access(1, z, 4, 4, "read", 4));
    expect(f.message).toBe(`attempting a read access using <${z}> at alloc1[0x4], ${DOES_NOT_EXIST}`);
    expect(history(f)).toEqual([
      { message: `<${z}> would have been created here, but this is a zero-size retag ([0x4..0x4]) so the tag in question does not exist anywhere`, site: 2 },
    ]);
  });

  it("a function-entry retag's invalidations are reported at the call", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 2));
    const z = tagOf(sb.retag(1, u, 0, 4, "raw-mut", 3));
    const arg = tagOf(sb.retag(1, root, 0, 4, "unique", 50, { cause: "fn-entry", protector: "strong", callSite: 60 }));
    sb.endCall([arg]);
    const f = findingOf(sb.access(1, z, 0, 4, "read", 4));
    expect(history(f)).toEqual([
      { message: `<${z}> was created by a SharedReadWrite retag at offsets [0x0..0x4]`, site: 3 },
      { message: `<${z}> was later invalidated at offsets [0x0..0x4] by a Unique function-entry retag inside this call`, site: 60 },
    ]);
  });
});

describe("protectors", () => {
  it("strong: an access that would pop a protected item is UB, and the help names the argument", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 77);
    const arg = tagOf(sb.retag(1, root, 0, 4, "unique", 20, { protector: "strong", cause: "fn-entry", callSite: 21 }));
    expect(sb.protectorOf(arg)).toBe("strong");
    // The local read directly while a reference to it is a protected argument: disabling the
    // protected item is as forbidden as popping it.
    expect(findingOf(sb.access(1, root, 0, 4, "read", 23)).message).toBe(
      `not granting access to tag <${root}> because that would remove [Unique for <${arg}>] which is strongly protected`,
    );
    const f = findingOf(sb.access(1, root, 0, 4, "write", 22));
    expect(f.message).toBe(`not granting access to tag <${root}> because that would remove [Unique for <${arg}>] which is strongly protected`);
    expect(f.label).toBeUndefined();
    expect(history(f)).toEqual([
      { message: `<${root}> was created here, as the root tag for alloc1`, site: 77 },
      { message: `<${arg}> is this argument`, site: 20 },
    ]);
    // When the call returns, the protector ends.
    sb.endCall([arg]);
    expect(sb.protectorOf(arg)).toBeUndefined();
    const again = tagOf(sb.retag(1, root, 0, 4, "unique", 20, { protector: "strong", cause: "fn-entry" }));
    sb.endCall([again]);
    clean(sb.access(1, root, 0, 4, "write", 24));
  });

  it("strong: a protected SharedReadOnly may not be popped by a write either", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const raw = tagOf(sb.retag(1, root, 0, 4, "raw-mut", 2));
    const arg = tagOf(sb.retag(1, raw, 0, 4, "shared", 3, { protector: "strong", cause: "fn-entry" }));
    clean(sb.access(1, raw, 0, 4, "read", 4));
    const f = findingOf(sb.access(1, raw, 0, 4, "write", 5));
    expect(f.message).toBe(`not granting access to tag <${raw}> because that would remove [SharedReadOnly for <${arg}>] which is strongly protected`);
  });

  it("strong: deallocating while a protected item is in the stack is UB", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(2, 4, "heap", 1);
    const arg = tagOf(sb.retag(2, root, 0, 4, "unique", 2, { protector: "strong", cause: "fn-entry" }));
    const raw = tagOf(sb.retag(2, arg, 0, 4, "raw-mut", 3));
    const f = findingOf(sb.deallocate(2, raw, 4));
    expect(f.message).toBe(`deallocating while item [Unique for <${arg}>] is strongly protected`);
    expect(f.label).toBeUndefined();
    expect(history(f)).toEqual([{ message: `<${arg}> is this argument`, site: 2 }]);
    expect(sb.stats().allocations).toBe(1); // a failed deallocation keeps the state
    // Through the protected tag itself: still forbidden for a strong protector.
    expect(findingOf(sb.deallocate(2, arg, 5)).message).toBe(`deallocating while item [Unique for <${arg}>] is strongly protected`);
  });

  it("weak (a Box argument): deallocation through the pointer itself is allowed", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(3, 4, "heap", 1);
    const b = tagOf(sb.retag(3, root, 0, 4, "box", 2, { protector: "weak", cause: "fn-entry" }));
    expect(sb.protectorOf(b)).toBe("weak");
    clean(sb.deallocate(3, b, 3));
    expect(sb.stats().allocations).toBe(0);
  });

  it("weak: invalidating the item is still UB, by an access or by a deallocation through another pointer", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(3, 4, "heap", 1);
    const raw = tagOf(sb.retag(3, root, 0, 4, "raw-mut", 2));
    const b = tagOf(sb.retag(3, raw, 0, 4, "box", 3, { protector: "weak", cause: "fn-entry" }));
    const f = findingOf(sb.access(3, raw, 0, 4, "read", 4));
    expect(f.message).toBe(`not granting access to tag <${raw}> because that would remove [Unique for <${b}>] which is weakly protected`);
    expect(history(f)).toEqual([
      { message: `<${raw}> was created by a SharedReadWrite retag at offsets [0x0..0x4]`, site: 2 },
      { message: `<${b}> is this argument`, site: 3 },
    ]);
    expect(findingOf(sb.deallocate(3, raw, 5)).message).toBe(`deallocating while item [Unique for <${b}>] is weakly protected`);
  });

  it("raw pointers and the bytes inside cells are never protected", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 8, "heap", 1);
    const r = tagOf(sb.retag(1, root, 0, 8, "raw-mut", 2, { protector: "strong" }));
    expect(sb.stackAt(1, 0)!.items.at(-1)).toEqual({ tag: r, permission: "SharedReadWrite", protected: false });
    const s = tagOf(sb.retag(1, root, 0, 8, "shared", 3, { protector: "strong", cells: [0, 4] }));
    expect(sb.stackAt(1, 0)!.items.find((i) => i.tag === s)).toEqual({ tag: s, permission: "SharedReadWrite", protected: false });
    expect(sb.stackAt(1, 4)!.items.at(-1)).toEqual({ tag: s, permission: "SharedReadOnly", protected: true });
    clean(sb.access(1, root, 0, 4, "write", 4)); // pops s in the cell: fine
    expect(findingOf(sb.access(1, root, 4, 4, "write", 5)).message).toContain("strongly protected");
  });
});

describe("interior mutability", () => {
  it("a shared retag grants SharedReadWrite inside cells and SharedReadOnly elsewhere", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 8, "heap", 1);
    // struct { c: Cell<u32>, x: u32 }
    const s = tagOf(sb.retag(1, root, 0, 8, "shared", 2, { cells: [0, 4] }));
    expect(stack(sb, 1, 0)).toEqual([`SharedReadWrite<${root}>`, `SharedReadWrite<${s}>`]);
    expect(stack(sb, 1, 4)).toEqual([`SharedReadWrite<${root}>`, `SharedReadOnly<${s}>`]);
    clean(sb.access(1, s, 0, 4, "write", 3)); // Cell::set
    clean(sb.access(1, s, 4, 4, "read", 4));
    const f = findingOf(sb.access(1, s, 0, 8, "write", 5)); // the frozen half is read-only
    expect(f.message).toBe(`attempting a write access using <${s}> at alloc1[0x4], ${ONLY_SRO}`);
    expect(f.label).toBe("this error occurs as part of an access at alloc1[0x0..0x8]");
    // The creation line is the one covering the failing offset.
    expect(history(f)).toEqual([{ message: `<${s}> was created by a SharedReadOnly retag at offsets [0x4..0x8]`, site: 2 }]);
  });

  it("a shared retag over a cell is no access: it keeps an outstanding &mut alive", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 2));
    const c = tagOf(sb.retag(1, u, 0, 4, "shared", 3, { cells: [0, 4] }));
    expect(stack(sb, 1)).toEqual([`Unique<${root}>`, `Unique<${u}>`, `SharedReadWrite<${c}>`]);
    clean(sb.access(1, c, 0, 4, "write", 4));
    clean(sb.access(1, u, 0, 4, "write", 5)); // still valid; pops c
    expect(findingOf(sb.access(1, c, 0, 4, "read", 6)).message).toContain(DOES_NOT_EXIST);
  });

  it("cells may come unsorted, in several pieces, and are clipped to the pointee", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 16, "heap", 1);
    const s = tagOf(sb.retag(1, root, 4, 8, "raw-shared", 2, { cells: [6, 20, 0, 2, 2, 3] }));
    const perms = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => sb.stackAt(1, 4 + i)!.items.at(-1)!.permission);
    expect(perms).toEqual(["SharedReadWrite", "SharedReadWrite", "SharedReadWrite", "SharedReadOnly", "SharedReadOnly", "SharedReadOnly", "SharedReadWrite", "SharedReadWrite"]);
    expect(sb.stackAt(1, 0)!.items.length).toBe(1);
    clean(sb.access(1, s, 4, 3, "write", 3));
  });
});

describe("wildcards and exposed tags", () => {
  it("a wildcard access needs an exposed tag with suitable permission", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const f = findingOf(sb.access(1, "wildcard", 0, 4, "read", 2));
    expect(f.message).toBe(`attempting a read access using <wildcard> at alloc1[0x0], ${NO_EXPOSED}`);
    expect(history(f)).toEqual([]);
    const shr = tagOf(sb.retag(1, root, 0, 4, "shared", 3));
    sb.expose(1, shr);
    expect(findingOf(sb.access(1, "wildcard", 0, 4, "write", 4)).message).toBe(`attempting a write access using <wildcard> at alloc1[0x0], ${NO_EXPOSED}`);
    clean(sb.access(1, "wildcard", 0, 4, "read", 5));
  });

  it("after a wildcard access the stack is an unknown bottom; older tags may be in it, newer ones not", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "stack", 1);
    const u = tagOf(sb.retag(1, root, 0, 4, "unique", 2));
    const raw = tagOf(sb.retag(1, u, 0, 4, "raw-mut", 3));
    sb.expose(1, raw);
    clean(sb.access(1, "wildcard", 0, 4, "write", 4));
    expect(stack(sb, 1)).toEqual([`?<${raw + 1}`]);
    clean(sb.access(1, u, 0, 4, "read", 5)); // <u> < bound: it may be down there
    const fresh = tagOf(sb.retag(1, "wildcard", 0, 4, "unique", 6));
    expect(stack(sb, 1)).toEqual([`?<${raw + 1}`, `Unique<${fresh}>`]);
    clean(sb.access(1, fresh, 0, 4, "write", 7));
    clean(sb.access(1, root, 0, 4, "write", 8)); // matched the unknown part: fresh goes
    expect(stack(sb, 1)).toEqual([`?<${raw + 1}`]);
    const f = findingOf(sb.access(1, fresh, 0, 4, "read", 9));
    expect(f.message).toBe(`attempting a read access using <${fresh}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)[1]).toEqual({ message: `<${fresh}> was later invalidated at offsets [0x0..0x4] by a write access`, site: 8 });
  });

  it("a SharedReadWrite retag from a wildcard forgets the whole stack", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    sb.expose(1, root);
    const before = sb.stats().nextTag;
    const r = tagOf(sb.retag(1, "wildcard", 0, 4, "raw-mut", 2));
    expect(r).toBe(before);
    expect(stack(sb, 1)).toEqual([`?<${r + 1}`]);
    clean(sb.access(1, r, 0, 4, "write", 3));
  });
});

describe("deallocation", () => {
  it("through a tag that may write: the allocation is forgotten", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    const b = tagOf(sb.retag(1, root, 0, 4, "box", 2));
    clean(sb.deallocate(1, b, 3));
    expect(sb.stats().allocations).toBe(0);
    expect(sb.stackAt(1, 0)).toBeUndefined();
  });

  it("through a popped tag: `attempting deallocation using …`", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(4, 1, "heap", 1);
    const p1 = tagOf(sb.retag(4, tagOf(sb.retag(4, root, 0, 1, "unique", 2)), 0, 1, "raw-mut", 2));
    const p2 = tagOf(sb.retag(4, tagOf(sb.retag(4, p1, 0, 1, "unique", 3)), 0, 1, "raw-mut", 3));
    clean(sb.access(4, p1, 0, 1, "write", 4));
    const f = findingOf(sb.deallocate(4, p2, 5));
    expect(f.message).toBe(`attempting deallocation using <${p2}> at alloc4, ${DOES_NOT_EXIST}`);
    expect(f.label).toBeUndefined();
    expect(history(f)).toEqual([
      { message: `<${p2}> was created by a SharedReadWrite retag at offsets [0x0..0x1]`, site: 3 },
      { message: `<${p2}> was later invalidated at offsets [0x0..0x1] by a write access`, site: 4 },
    ]);
  });

  it("through a read-only tag: `only grants SharedReadOnly`", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 4, "heap", 1);
    const s = tagOf(sb.retag(1, root, 0, 4, "shared", 2));
    expect(findingOf(sb.deallocate(1, s, 3)).message).toBe(`attempting deallocation using <${s}> at alloc1, ${ONLY_SRO}`);
  });
});

describe("ranges", () => {
  it("an access over several runs reports the first run that fails, labelled with the whole access", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 16, "heap", 1);
    const a = tagOf(sb.retag(1, root, 0, 8, "unique", 2));
    const b = tagOf(sb.retag(1, a, 4, 4, "unique", 3));
    clean(sb.access(1, b, 4, 4, "write", 4));
    const f = findingOf(sb.access(1, b, 0, 8, "write", 5));
    expect(f.message).toBe(`attempting a write access using <${b}> at alloc1[0x0], ${DOES_NOT_EXIST}`);
    expect(history(f)[0]!.message).toBe(`<${b}> was created by a Unique retag at offsets [0x4..0x8]`);
    const g = findingOf(sb.access(1, a, 0, 12, "read", 6));
    expect(g.message).toBe(`attempting a read access using <${a}> at alloc1[0x8], ${DOES_NOT_EXIST}`);
    expect(g.label).toBe("this error occurs as part of an access at alloc1[0x0..0xc]");
  });

  it("disjoint borrows split the stacks; a write over all of them merges them back", () => {
    const sb = new StackedBorrows();
    const n = 64;
    const root = sb.newAllocation(1, 4 * n, "heap", 1);
    const tags: number[] = [];
    for (let i = 0; i < n; i++) tags.push(tagOf(sb.retag(1, root, 4 * i, 4, "unique", 2)));
    for (let i = 0; i < n; i++) clean(sb.access(1, tags[i]!, 4 * i, 4, "write", 3));
    expect(sb.stats().runs).toBe(n);
    const f = findingOf(sb.access(1, tags[3]!, 12, 8, "read", 4));
    expect(f.message).toBe(`attempting a read access using <${tags[3]}> at alloc1[0x10], ${DOES_NOT_EXIST}`);
    clean(sb.access(1, root, 0, 4 * n, "write", 5));
    expect(sb.stats().runs).toBe(1);
    expect(sb.describe(1)).toEqual([`0..${4 * n}: [ SharedReadWrite<${root}> ]`]);
  });

  it("an access inside a run that changes nothing does not split it", () => {
    const sb = new StackedBorrows();
    const root = sb.newAllocation(1, 64, "heap", 1);
    const u = tagOf(sb.retag(1, root, 0, 64, "unique", 2));
    for (let off = 0; off < 64; off += 4) clean(sb.access(1, u, off, 4, "write", 3));
    expect(sb.stats().runs).toBe(1);
    clean(sb.access(1, root, 8, 4, "read", 4)); // disables u at [8, 12) only
    expect(sb.stats().runs).toBe(3);
    expect(findingOf(sb.access(1, u, 0, 64, "write", 5)).message).toContain("alloc1[0x8]");
  });
});
