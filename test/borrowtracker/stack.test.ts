/**
 * The borrow stack (src/borrowtracker/stacked-borrows/stack.ts) on its own, with a fake host:
 * the access rules, where a retag inserts its item, the unknown bottom, the garbage collector, and
 * a property test against a naive stack that transcribes Miri's rules literally (no cache, no
 * unique range, no top-of-stack shortcut): random operations must give the same items, the same
 * verdicts and the same invalidations, and `isNoop` must only say "no change" when nothing changes.
 */
import { describe, expect, it } from "vitest";
import {
  DISABLED,
  MAYBE_PROTECTED,
  READ,
  SHARED_READ_ONLY,
  SHARED_READ_WRITE,
  UNIQUE,
  WRITE,
  type AccessCode,
  type ProtectorKind,
} from "../../src/borrowtracker/stacked-borrows/item.js";
import { CACHE_THRESHOLD, NO_ACCESS, NOT_GRANTED, OK, PROTECTED, Stack, type StackHost } from "../../src/borrowtracker/stacked-borrows/stack.js";

/** A host that records invalidations and knows a table of protectors. */
class FakeHost implements StackHost {
  exposed: Set<number> | null = null;
  next = 1000;
  readonly protectors = new Map<number, ProtectorKind>();
  readonly log: string[] = [];
  nextTag(): number {
    return this.next;
  }
  invalidated(tag: number, bits: number, dealloc: boolean): boolean {
    this.log.push(`${dealloc ? "dealloc" : "pop"} ${tag}:${bits & 3}`);
    if ((bits & MAYBE_PROTECTED) === 0) return true;
    const kind = this.protectors.get(tag);
    return kind === undefined || (dealloc && kind === "weak");
  }
}

/** `U1 S2 R3 D4` (Unique, SharedReadWrite, SharedReadOnly, Disabled), with `?N` for an unknown bottom below N. */
function show(s: Stack): string {
  const letters = ["U", "S", "R", "D"];
  const items = s.items().map((it, i) => `${letters[s.bitsAt(i) & 3]}${it.tag}`);
  return [s.unknownBound ? `?${s.unknownBound}` : "", ...items].filter((x) => x !== "").join(" ");
}

/** A stack holding only the root item. */
function build(_host: FakeHost, root: number, rootPerm: typeof UNIQUE | typeof SHARED_READ_WRITE): Stack {
  return Stack.withRoot(root, rootPerm);
}

describe("Stack: access rules", () => {
  it("a read disables the Uniques above the granting item, and pops nothing", () => {
    const h = new FakeHost();
    const s = build(h, 1, UNIQUE);
    expect(s.grant(1, 2, UNIQUE, WRITE, h)).toBe(OK); // &mut
    expect(s.grant(2, 3, SHARED_READ_WRITE, NO_ACCESS, h)).toBe(OK); // as *mut
    expect(s.grant(3, 4, UNIQUE, WRITE, h)).toBe(OK); // &mut *raw
    expect(show(s)).toBe("U1 U2 S3 U4");
    expect(s.access(READ, 3, h)).toBe(OK);
    expect(show(s)).toBe("U1 U2 S3 D4");
    expect(s.access(READ, 1, h)).toBe(OK);
    expect(show(s)).toBe("U1 D2 S3 D4");
    expect(h.log).toEqual(["pop 4:0", "pop 2:0"]);
    expect(s.access(READ, 4, h)).toBe(NOT_GRANTED); // a Disabled item grants nothing
    expect(s.hasUsableItem(4)).toBe(false);
  });

  it("a write through a Unique pops everything above it", () => {
    const h = new FakeHost();
    const s = build(h, 1, SHARED_READ_WRITE);
    s.grant(1, 2, UNIQUE, WRITE, h);
    s.grant(2, 3, SHARED_READ_WRITE, NO_ACCESS, h);
    s.grant(2, 4, SHARED_READ_ONLY, READ, h);
    expect(show(s)).toBe("S1 U2 S3 R4");
    expect(s.access(WRITE, 2, h)).toBe(OK);
    expect(show(s)).toBe("S1 U2");
    expect(h.log).toEqual(["pop 4:2", "pop 3:1"]); // top first
  });

  it("a write through a SharedReadWrite keeps the SharedReadWrite block directly above it", () => {
    const h = new FakeHost();
    const s = build(h, 1, SHARED_READ_WRITE);
    s.grant(1, 2, SHARED_READ_WRITE, NO_ACCESS, h);
    s.grant(1, 3, SHARED_READ_ONLY, READ, h);
    expect(show(s)).toBe("S1 S2 R3");
    expect(s.access(WRITE, 1, h)).toBe(OK);
    expect(show(s)).toBe("S1 S2");
  });

  it("a write through a SharedReadOnly is not granted, though the tag is there", () => {
    const h = new FakeHost();
    const s = build(h, 1, UNIQUE);
    s.grant(1, 2, SHARED_READ_ONLY, READ, h);
    expect(s.access(WRITE, 2, h)).toBe(NOT_GRANTED);
    expect(s.hasUsableItem(2)).toBe(true);
    expect(s.access(WRITE, 9, h)).toBe(NOT_GRANTED);
    expect(s.hasUsableItem(9)).toBe(false);
  });

  it("a new SharedReadWrite goes above the parent's SharedReadWrite block, below SharedReadOnly items", () => {
    const h = new FakeHost();
    const s = build(h, 1, SHARED_READ_WRITE);
    s.grant(1, 2, SHARED_READ_WRITE, NO_ACCESS, h);
    s.grant(2, 3, SHARED_READ_ONLY, READ, h);
    s.grant(3, 4, SHARED_READ_ONLY, READ, h);
    expect(s.grant(1, 5, SHARED_READ_WRITE, NO_ACCESS, h)).toBe(OK);
    expect(show(s)).toBe("S1 S2 S5 R3 R4");
    // From a Unique parent: directly above it.
    const u = build(h, 1, UNIQUE);
    u.grant(1, 2, UNIQUE, WRITE, h);
    u.grant(2, 3, SHARED_READ_ONLY, READ, h);
    u.grant(2, 4, SHARED_READ_WRITE, NO_ACCESS, h);
    expect(show(u)).toBe("U1 U2 S4 R3");
    expect(h.log).toEqual([]); // no access, nothing invalidated
    // A SharedReadOnly parent cannot grant a SharedReadWrite.
    expect(u.grant(3, 5, SHARED_READ_WRITE, NO_ACCESS, h)).toBe(NOT_GRANTED);
  });

  it("protectors: popping or disabling a protected item fails; a weak one may be deallocated", () => {
    const h = new FakeHost();
    const s = build(h, 1, SHARED_READ_WRITE);
    s.grant(1, 2, UNIQUE | MAYBE_PROTECTED, WRITE, h);
    h.protectors.set(2, "strong");
    expect(s.access(READ, 1, h)).toBe(PROTECTED);
    expect(show(s)).toBe("S1 U2");
    expect(s.dealloc(2, h)).toBe(PROTECTED); // strongly protected: no deallocation
    h.protectors.set(2, "weak");
    expect(s.access(WRITE, 1, h)).toBe(PROTECTED); // weak still forbids invalidation
    const w = build(h, 1, SHARED_READ_WRITE);
    w.grant(1, 2, UNIQUE | MAYBE_PROTECTED, WRITE, h);
    expect(w.dealloc(2, h)).toBe(OK); // …but the pointer itself may free the memory
    h.protectors.delete(2); // the call returned
    expect(s.access(WRITE, 1, h)).toBe(OK);
  });

  it("wildcards use exposed items; afterwards the stack is an unknown bottom", () => {
    const h = new FakeHost();
    const s = build(h, 1, UNIQUE);
    s.grant(1, 2, UNIQUE, WRITE, h);
    s.grant(2, 3, SHARED_READ_WRITE, NO_ACCESS, h);
    s.grant(3, 4, SHARED_READ_ONLY, READ, h);
    expect(s.access(WRITE, 0, h)).toBe(NOT_GRANTED); // nothing exposed
    h.exposed = new Set([4]);
    expect(s.access(WRITE, 0, h)).toBe(NOT_GRANTED); // only a SharedReadOnly exposed
    expect(s.access(READ, 0, h)).toBe(OK);
    expect(show(s)).toBe("?5");
    // Tags below the bound may be in the unknown part; the access forgets the stack again.
    expect(s.access(WRITE, 2, h)).toBe(OK);
    expect(s.access(READ, 5, h)).toBe(NOT_GRANTED);
    s.grant(2, 6, UNIQUE, WRITE, h);
    expect(show(s)).toBe("?5 U6");
    expect(s.access(READ, 6, h)).toBe(OK);
    expect(s.access(WRITE, 3, h)).toBe(OK); // matched the unknown part: everything known goes
    expect(show(s)).toBe("?5");
    // A SharedReadWrite from a wildcard or the unknown part makes the whole stack unknown.
    h.next = 42;
    s.grant(0, 41, SHARED_READ_WRITE, NO_ACCESS, h);
    expect(show(s)).toBe("?42");
  });

  it("deallocation: a write access, then every remaining item is checked", () => {
    const h = new FakeHost();
    const s = build(h, 1, SHARED_READ_WRITE);
    s.grant(1, 2, UNIQUE, WRITE, h);
    s.grant(2, 3, SHARED_READ_ONLY, READ, h);
    expect(s.dealloc(2, h)).toBe(OK);
    expect(h.log).toEqual(["pop 3:2", "dealloc 2:0", "dealloc 1:1"]);
    expect(s.dealloc(3, h)).toBe(NOT_GRANTED);
  });

  it("gc keeps the bottom, block-ending items and live tags (Miri's retain)", () => {
    const h = new FakeHost();
    const s = build(h, 1, SHARED_READ_WRITE);
    s.grant(1, 2, SHARED_READ_WRITE, NO_ACCESS, h);
    s.grant(2, 3, UNIQUE, WRITE, h); // ends the SRW block: kept even if dead
    s.grant(3, 4, SHARED_READ_ONLY, READ, h); // dead, after a Unique: removed
    s.grant(4, 5, SHARED_READ_ONLY, READ, h); // live
    s.grant(5, 6, SHARED_READ_ONLY, READ, h); // dead: removed
    expect(s.retain(new Set([5]))).toBe(true);
    expect(show(s)).toBe("S1 U3 R5");
    expect(s.retain(new Set([5]))).toBe(false);
    expect(s.retain(new Set())).toBe(true);
    expect(show(s)).toBe("S1 U3");
  });

  it("prints as Miri's print_stacks, equals ignores caches, clones are independent", () => {
    const h = new FakeHost();
    const s = build(h, 1, SHARED_READ_WRITE);
    s.grant(1, 2, UNIQUE, WRITE, h);
    expect(s.toString()).toBe("[ SharedReadWrite<1> Unique<2> ]");
    expect(s.describeItems()).toEqual(["[SharedReadWrite for <1>]", "[Unique for <2>]"]);
    const c = s.clone();
    expect(c.equals(s)).toBe(true);
    c.access(READ, 1, h);
    expect(c.equals(s)).toBe(false);
    expect(s.toString()).toBe("[ SharedReadWrite<1> Unique<2> ]");
    expect(c.toString()).toBe("[ SharedReadWrite<1> Disabled<2> ]");
    h.exposed = new Set([1]);
    c.access(READ, 0, h);
    expect(c.toString()).toBe("[ unknown-bottom(..<2>) ]");
  });
});

// ------------------------------------------------------------------ the naive reference

interface NaiveItem {
  tag: number;
  bits: number;
}

/** Miri's rules, transcribed without any optimisation. */
class NaiveStack {
  items: NaiveItem[];
  unknown = 0;
  constructor(root: number, perm: number) {
    this.items = [{ tag: root, bits: perm }];
  }
  private static grants(bits: number, access: AccessCode): boolean {
    const p = bits & 3;
    return p !== DISABLED && (access === READ || p !== SHARED_READ_ONLY);
  }
  findGranting(access: AccessCode, tag: number, exposed: Set<number> | null): number {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const it = this.items[i]!;
      if (!NaiveStack.grants(it.bits, access)) continue;
      if (tag === 0 ? exposed?.has(it.tag) : it.tag === tag) return i;
    }
    if (tag === 0) return this.unknown ? -1 : -2;
    return this.unknown && tag < this.unknown ? -1 : -2;
  }
  private fwi(g: number): number {
    if ((this.items[g]!.bits & 3) === UNIQUE) return g + 1;
    let i = g + 1;
    while (i < this.items.length && (this.items[i]!.bits & 3) === SHARED_READ_WRITE) i++;
    return i;
  }
  access(access: AccessCode, tag: number, h: StackHost): number {
    const g = this.findGranting(access, tag, h.exposed as Set<number> | null);
    if (g === -2) return NOT_GRANTED;
    if (access === WRITE) {
      const start = g >= 0 ? this.fwi(g) : 0;
      while (this.items.length > start) {
        const it = this.items.pop()!;
        if (!h.invalidated(it.tag, it.bits, false)) return PROTECTED;
      }
    } else {
      for (let i = g >= 0 ? g + 1 : 0; i < this.items.length; i++) {
        const it = this.items[i]!;
        if ((it.bits & 3) !== UNIQUE) continue;
        if (!h.invalidated(it.tag, it.bits, false)) return PROTECTED;
        it.bits = (it.bits & ~3) | DISABLED;
      }
    }
    if (g === -1 || tag === 0) {
      let max = 1;
      for (const it of this.items) if ((it.bits & 3) !== DISABLED) max = Math.max(max, it.tag + 1);
      this.unknown = Math.max(max, this.unknown);
      this.items = [];
    }
    return OK;
  }
  grant(parent: number, tag: number, bits: number, access: number, h: StackHost): number {
    if (access !== NO_ACCESS) {
      const st = this.access(access as AccessCode, parent, h);
      if (st !== OK) return st;
      this.items.push({ tag, bits });
      return OK;
    }
    const g = this.findGranting(WRITE, parent, h.exposed as Set<number> | null);
    if (g === -2) return NOT_GRANTED;
    if (g === -1 || parent === 0) {
      this.items = [];
      this.unknown = h.nextTag();
      return OK;
    }
    this.items.splice(this.fwi(g), 0, { tag, bits });
    return OK;
  }
  dealloc(tag: number, h: StackHost): number {
    const st = this.access(WRITE, tag, h);
    if (st !== OK) return st;
    for (let i = this.items.length - 1; i >= 0; i--) if (!h.invalidated(this.items[i]!.tag, this.items[i]!.bits, true)) return PROTECTED;
    return OK;
  }
  retain(live: Set<number>): void {
    const out = this.items.slice(0, 1);
    for (let i = 1; i < this.items.length; i++) {
      const left = this.items[i - 1]!.bits & 3;
      const it = this.items[i]!;
      const p = it.bits & 3;
      const keep = p === SHARED_READ_WRITE ? live.has(it.tag) : p === DISABLED ? left === SHARED_READ_WRITE : left === SHARED_READ_WRITE || live.has(it.tag);
      if (keep) out.push(it);
    }
    this.items = out;
  }
  show(): string {
    const letters = ["U", "S", "R", "D"];
    return [this.unknown ? `?${this.unknown}` : "", ...this.items.map((it) => `${letters[it.bits & 3]}${it.tag}`)].filter((x) => x !== "").join(" ");
  }
}

function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

describe("Stack: property test against Miri's rules transcribed naively", () => {
  let tallest = 0;
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}`, () => {
      const rnd = prng(seed * 7919);
      const rootPerm = rnd(2) === 0 ? UNIQUE : SHARED_READ_WRITE;
      const fast = Stack.withRoot(1, rootPerm);
      const naive = new NaiveStack(1, rootPerm);
      const hf = new FakeHost();
      const hn = new FakeHost();
      let next = 2;
      const tags = [1];
      // In odd seeds grants dominate and writes are rare, so stacks grow well past the cache
      // threshold; even seeds mix everything evenly.
      const tall = seed % 2 === 1;
      const pick = () => (rnd(10) === 0 ? (rnd(3) === 0 ? 0 : 1 + rnd(next + 2)) : tags[tags.length - 1 - rnd(Math.min(tags.length, 1 + rnd(40)))]!);
      for (let step = 0; step < 400; step++) {
        let op = rnd(12);
        if (tall) {
          const r = rnd(100);
          op = r < 60 ? 7 : r < 85 ? 0 : r < 88 ? 1 : 3 + rnd(4);
        }
        const before = naive.show();
        let context = `seed ${seed} step ${step} on [${before}]: `;
        let sf: number;
        let sn: number;
        if (op < 3) {
          const access: AccessCode = tall ? (op === 0 ? READ : WRITE) : rnd(2) === 0 ? READ : WRITE;
          const tag = pick();
          context += `${access === READ ? "read" : "write"} ${tag}`;
          const noop = fast.isNoop(access, tag, hf.exposed);
          const logBefore = hf.log.length;
          sf = fast.access(access, tag, hf);
          sn = naive.access(access, tag, hn);
          if (noop) {
            expect(sf, context + " (isNoop said no change)").toBe(OK);
            expect(naive.show(), context + " (isNoop said no change)").toBe(before);
            expect(hf.log.length, context).toBe(logBefore);
          }
        } else if (op === 3) {
          const tag = pick();
          context += `dealloc ${tag}`;
          sf = fast.dealloc(tag, hf);
          sn = naive.dealloc(tag, hn);
        } else if (op === 4) {
          const live = new Set(tags.filter(() => rnd(3) === 0));
          context += `retain ${[...live].join(",")}`;
          fast.retain(live);
          naive.retain(live);
          sf = sn = OK;
        } else if (op === 5) {
          const tag = pick();
          context += `expose ${tag}`;
          for (const h of [hf, hn]) (h.exposed ??= new Set()).add(tag);
          sf = sn = OK;
        } else if (op === 6) {
          // Protect or release a random tag (only items made with the flag can be protected).
          const tag = tags[rnd(tags.length)]!;
          const kind: ProtectorKind | undefined = [undefined, "weak" as const, "strong" as const][rnd(3)];
          context += `protect ${tag} ${kind}`;
          for (const h of [hf, hn]) {
            if (kind === undefined) h.protectors.delete(tag);
            else h.protectors.set(tag, kind);
          }
          sf = sn = OK;
        } else {
          const parent = tall && rnd(2) === 0 ? tags[tags.length - 1]! : pick();
          const tag = next++;
          const kind = tall ? [0, 1, 1, 2, 2][rnd(5)]! : rnd(3);
          const perm = kind === 0 ? UNIQUE : kind === 1 ? SHARED_READ_ONLY : SHARED_READ_WRITE;
          const access = kind === 0 ? WRITE : kind === 1 ? READ : NO_ACCESS;
          const bits = perm | (rnd(8) === 0 ? MAYBE_PROTECTED : 0);
          hf.next = hn.next = next;
          context += `grant ${tag} (${perm}) from ${parent}`;
          sf = fast.grant(parent, tag, bits, access, hf);
          sn = naive.grant(parent, tag, bits, access, hn);
          if (sf === OK) tags.push(tag);
        }
        expect(sf, context).toBe(sn);
        tallest = Math.max(tallest, fast.length);
        expect(show(fast), context).toBe(naive.show());
        expect(hf.log, context).toEqual(hn.log);
      }
    });
  }

  it("the random operations reached stacks well above the cache threshold", () => {
    expect(tallest).toBeGreaterThan(2 * CACHE_THRESHOLD);
  });

  it("a popped tag is not found through a stale cache entry", () => {
    const h = new FakeHost();
    const s = Stack.withRoot(1, SHARED_READ_WRITE);
    for (let t = 2; t < 40; t++) s.grant(1, t, SHARED_READ_ONLY, READ, h);
    expect(s.access(READ, 20, h)).toBe(OK); // cached at its index
    expect(s.access(WRITE, 1, h)).toBe(OK); // pops everything above the root
    for (let t = 100; t < 140; t++) s.grant(1, t, SHARED_READ_ONLY, READ, h); // reuses the indices
    expect(s.access(READ, 20, h)).toBe(NOT_GRANTED);
    expect(s.access(READ, 120, h)).toBe(OK);
  });

  it("reaches stacks taller than the lookup cache", () => {
    // A long-lived shared tag below many newer ones: found through the cache every time.
    const h = new FakeHost();
    const s = Stack.withRoot(1, SHARED_READ_WRITE);
    s.grant(1, 2, SHARED_READ_ONLY, READ, h);
    for (let t = 3; t < 200; t++) {
      expect(s.grant(2, t, SHARED_READ_ONLY, READ, h)).toBe(OK);
      expect(s.access(READ, 2, h)).toBe(OK);
      expect(s.access(READ, t - 1, h)).toBe(OK);
      if (t % 10 === 0) expect(s.grant(1, 10_000 + t, SHARED_READ_WRITE, NO_ACCESS, h)).toBe(OK); // inserted below: indices shift
    }
    expect(s.length).toBe(1 + 1 + 197 + 19);
    expect(s.access(WRITE, 1, h)).toBe(OK);
    expect(s.length).toBe(20);
    expect(s.access(READ, 2, h)).toBe(NOT_GRANTED);
  });
});
