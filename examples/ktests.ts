// `npx kmiri test examples/ktests.ts`: each ktest runs on a fresh Machine.
import { alloc, alloc_zeroed, dealloc, ktest, assert_eq, assert, panic, u8, u32 } from "kmiri/rt";

/** Fills `n` bytes from `p` with `value` (an unsafe function: the caller vouches for `p`). */
function fill(p: ReturnType<typeof alloc<number>>, n: number, value: number): void {
  "unsafe";
  for (let i = 0; i < n; i++) p.add(i).write(value);
}

ktest("alloc_write_read", () => {
  unsafe: {
    const p = alloc(u32);
    p.write(0xdead_beef);
    assert_eq(p.read(), 0xdead_beef);
    dealloc(p, u32);
  }
});

ktest("zeroed_memory_reads_zero", () => {
  unsafe: {
    const p = alloc_zeroed(u32);
    assert_eq(p.read(), 0);
    dealloc(p, u32);
  }
});

ktest("fill_in_bounds", () => {
  unsafe: {
    const p = alloc_zeroed(u8).cast(u8);
    fill(p, 1, 7);
    assert(p.read() === 7, "the byte was written");
    dealloc(p, u8);
  }
});

ktest.should_panic("panics_as_expected", () => {
  panic("out of frames");
}, "out of frames");
