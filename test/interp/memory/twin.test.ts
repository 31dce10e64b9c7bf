/**
 * The native twin of the memory model: a clean program that stores pointers in structs, walks a
 * linked list, projects fields and elements, copies, reallocates and transmutes computes the same
 * values at the same addresses on the checked runtime and on the native one.
 */
import { describe, expect, it } from "vitest";
import { inspect } from "node:util";
import * as checked from "../../../src/shims/checked/memory.js";
import * as native from "../../../src/shims/native/memory.js";
import {
  AtomicPtr,
  AtomicU32,
  array,
  bool,
  cell,
  enum_,
  maybe_uninit,
  ptr,
  struct,
  u16,
  u32,
  u64,
  u8,
  usize,
  type Layout,
} from "../../../src/interp/memory/layouts.js";
import { freshHost } from "../../fixtures/memory/fake-host.js";

/** The memory API both runtimes share, as a program sees it. */
type Rt = typeof checked | typeof native;

type P<T> = { read(): T; addr(): number; is_null(): boolean };
type NodeV = { next: P<NodeV>; value: u32V; state: string };
type u32V = number;

const State = enum_("State", u8, { Idle: 0, Busy: 1, Dead: 7 });
const Node: Layout<NodeV> = struct("Node", { next: ptr(() => Node), value: u32, state: State }) as Layout<NodeV>;
const Hdr = struct("Hdr", { tag: u8, len: u32, seq: u16 }, { repr: "packed" });
const Slot = struct("Slot", { lock: AtomicU32, data: cell(u64), spare: maybe_uninit(u32), link: AtomicPtr(u8) });

/** A program that logs what it computes: the same log is expected from both runtimes. */
function program(rt: Rt): unknown[] {
  const log: unknown[] = [];
  // A linked list of boxes, built through pointers stored in structs.
  let head = rt.null_mut(Node) as unknown as ReturnType<Rt["null_mut"]>;
  for (let i = 1; i <= 5; i++) {
    const b = rt.Box.new(Node, { next: head as never, value: i * 10, state: i % 2 === 0 ? "Busy" : "Idle" });
    head = rt.Box.into_raw(b) as never;
  }
  let sum = 0;
  const states: string[] = [];
  for (let p = head as unknown as { is_null(): boolean; read(): NodeV; addr(): number }; !p.is_null(); ) {
    const n = p.read();
    sum += n.value;
    states.push(n.state);
    p = n.next as never;
  }
  log.push(sum, states.join(","), (head as unknown as P<NodeV>).addr());
  // Field and element projections, a packed header.
  const h = rt.alloc_zeroed(array(u64, 2)).cast(Hdr);
  h.write({ tag: 3, len: 0x01020304, seq: 9 });
  log.push(h.read(), h.field("len").read_unaligned(), h.cast(u8).add(1).read(), h.field("seq").addr() - h.addr());
  const arr = rt.alloc_zeroed(array(u16, 4));
  arr.index(2).write(0xbeef);
  log.push(arr.read(), arr.index(2).read());
  // Cells, atomics (as plain layouts), maybe_uninit, a stored pointer in an AtomicPtr.
  const s = rt.alloc_zeroed(Slot);
  s.field("link").write(h.cast(u8) as never);
  s.field("data").write(77n);
  log.push(s.field("link").read().read(), s.read().data, s.read().lock);
  // Copies carry pointers; a realloc too.
  const v = rt.alloc(array(ptr(Node), 2));
  v.index(0).write(head as never);
  v.index(1).write(rt.null_mut(Node) as never);
  const w = rt.realloc(v, array(ptr(Node), 2), 32).cast(array(ptr(Node), 4));
  rt.copy_nonoverlapping(w.index(0) as never, w.index(2) as never, 1);
  w.index(3).write(rt.null_mut(Node) as never);
  log.push(w.index(2).read().read().value, w.read().map((p) => (p as unknown as P<NodeV>).addr()));
  // Transmutes.
  const T = struct("T", { p: ptr(u8), n: u32, b: bool });
  const t = rt.transmute({ p: h.cast(u8) as never, n: 5, b: true }, T, struct("U", { q: ptr(u8), m: u32, c: bool }));
  log.push(t.q.read(), t.m, t.c, rt.transmute(1, u8, State));
  // Printing values that hold pointers prints their addresses.
  log.push(inspect(rt.Box.new(Node, { next: head as never, value: 1, state: "Dead" }).read()));
  log.push(rt.ptr_from_exposed(arr.expose_provenance(), u16).add(2).read(), usize.size);
  return log;
}

describe("native twin (memory model)", () => {
  it("computes the same values, at the same addresses", () => {
    const host = freshHost();
    native.resetNativeMemory();
    const fromNative = program(native);
    const fromChecked = program(checked);
    expect(host.reports).toEqual([]);
    expect(fromNative).toEqual(fromChecked);
    expect(fromNative[0]).toBe(150);
  });

  it("reads native pointers back as pointers into their chunk, one past the end included", () => {
    native.resetNativeMemory();
    const p = native.alloc_zeroed(array(u32, 4));
    const slot = native.alloc(ptr(u32));
    slot.write(p.cast(u32).add(4));
    const end = slot.read();
    expect(end.view).toBe(p.view);
    expect(end.sub(1).read()).toBe(0);
    expect(String(end)).toBe(`0x${(p.addr() + 16).toString(16)}`);
  });
});
