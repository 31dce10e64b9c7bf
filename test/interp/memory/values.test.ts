// Values and arguments that fit no Rust type (issue 10: every mistake is the program's, with a
// location; no silent conversion). A scalar write of a value its type cannot hold — `1.5`, `-1`,
// `2 ** 40 + 7`, `NaN` or a string for a `u32`, `2 ** 31` for an `i32`, a number for a `u64` — is
// rustc's error at the write (E0308 `mismatched types`, or the `overflowing_literals` lint for an
// integer out of range), kind `unsupported`; a layout built with a bad length, or a memory call
// given something that is no layout, is the same kind of error at the call, not kmiri's internal
// error. The native runtime throws a `TypeError` with the same message. Valid edge values still
// round-trip in both runtimes. And a pointer to a `maybe_uninit` struct (or array) projects its
// fields (elements), which are as uninitialised as their bytes.
import { describe, expect, test } from "vitest";
import { createMachine } from "../../../src/driver/create-machine.js";
import type { RunResult } from "../../../src/driver/results.js";
import { array, maybe_uninit, struct, u32, u8, unit } from "../../../src/interp/memory/layouts.js";

const kmiri = createMachine();
const FILE = "values.ts";

/** Runs `source` on the Machine and natively. */
async function both(source: string): Promise<{ checked: RunResult; native: RunResult }> {
  const checked = await kmiri.run({ source, fileName: FILE });
  const native = await kmiri.run({ source, fileName: FILE }, { native: true });
  return { checked, native };
}

/** The code of rustc's lint for an integer literal out of its type's range. */
const LINT = "overflowing_literals";

/** What a rejected value must give: the report on the Machine, the `TypeError` natively. */
function expectRejected(r: { checked: RunResult; native: RunResult }, code: string, message: string, line: number): void {
  expect(r.checked.ub).toHaveLength(1);
  expect(r.checked.ub[0]).toMatchObject({
    kind: "unsupported",
    title: code === LINT ? "" : `error[${code}]`,
    message,
    location: { file: FILE, line },
  });
  if (code === LINT) expect(r.checked.ub[0]!.notes).toContain("`#[deny(overflowing_literals)]` on by default");
  expect(r.checked.exitCode).toBe(1);
  expect(r.checked.panic).toBeUndefined();
  const suffix = code === LINT ? "(rustc lint `overflowing_literals`)" : `(rustc error ${code})`;
  expect(r.native.panic?.message).toBe(`TypeError: ${message} ${suffix}`);
}

/** A program writing `value` (a source expression) as `layout` through a raw pointer, at line 5. */
function writeProgram(layout: string, value: string): string {
  return `import { alloc, dealloc, ${layout} } from "kmiri/rt";
export function main(): void {
  unsafe: {
    const p = alloc(${layout});
    p.write((${value}) as any);
    dealloc(p, ${layout});
  }
}
`;
}

/** The message of an integer out of range. */
function outOfRange(type: string, lit: string, range: string): string {
  return `literal out of range for \`${type}\`: the literal \`${lit}\` does not fit into the type \`${type}\` whose range is \`${range}\``;
}

const U32_RANGE = "0..=4294967295";
const U64_RANGE = "0..=18446744073709551615";
const I64_RANGE = "-9223372036854775808..=9223372036854775807";

describe("a scalar write of a value its type cannot hold is rustc's error at the write", () => {
  // [layout, value, code, message]
  const cases: [string, string, string, string][] = [
    ["u32", "1.5", "E0308", "mismatched types: expected `u32`, found floating-point number `1.5`"],
    ["u32", "-1", LINT, outOfRange("u32", "-1", U32_RANGE)],
    ["u32", "2 ** 40 + 7", LINT, outOfRange("u32", "1099511627783", U32_RANGE)],
    ["u32", "2 ** 32", LINT, outOfRange("u32", "4294967296", U32_RANGE)],
    ["u32", "NaN", "E0308", "mismatched types: expected `u32`, found floating-point number `NaN`"],
    ["u32", "Infinity", "E0308", "mismatched types: expected `u32`, found floating-point number `Infinity`"],
    ["u32", '"5"', "E0308", 'mismatched types: expected `u32`, found string "5"'],
    ["u32", "5n", "E0308", "mismatched types: expected `u32`, found bigint `5n` (a `u32` is a `number`: write `5`)"],
    ["u32", "undefined", "E0308", "mismatched types: expected `u32`, found `undefined`"],
    ["u32", "true", "E0308", "mismatched types: expected `u32`, found bool `true`"],
    ["i32", "2 ** 31", LINT, outOfRange("i32", "2147483648", "-2147483648..=2147483647")],
    ["i32", "-(2 ** 31) - 1", LINT, outOfRange("i32", "-2147483649", "-2147483648..=2147483647")],
    ["i32", "0.5", "E0308", "mismatched types: expected `i32`, found floating-point number `0.5`"],
    ["u8", "256", LINT, outOfRange("u8", "256", "0..=255")],
    ["u8", "-1", LINT, outOfRange("u8", "-1", "0..=255")],
    ["u16", "65536", LINT, outOfRange("u16", "65536", "0..=65535")],
    ["i8", "128", LINT, outOfRange("i8", "128", "-128..=127")],
    ["i8", "-129", LINT, outOfRange("i8", "-129", "-128..=127")],
    ["i16", "32768", LINT, outOfRange("i16", "32768", "-32768..=32767")],
    ["u64", "5", "E0308", "mismatched types: expected `u64`, found number `5` (a `u64` is a `bigint`: write `5n`)"],
    ["u64", "-1n", LINT, outOfRange("u64", "-1", U64_RANGE)],
    ["u64", "2n ** 64n", LINT, outOfRange("u64", "18446744073709551616", U64_RANGE)],
    ["i64", "2n ** 63n", LINT, outOfRange("i64", "9223372036854775808", I64_RANGE)],
    ["i64", "-7", "E0308", "mismatched types: expected `i64`, found number `-7` (an `i64` is a `bigint`: write `-7n`)"],
    ["usize", "-1", LINT, outOfRange("usize", "-1", U64_RANGE)],
    ["usize", "2 ** 64", LINT, outOfRange("usize", "18446744073709551616", U64_RANGE)],
    ["usize", "1.5", "E0308", "mismatched types: expected `usize`, found floating-point number `1.5`"],
    ["usize", "8n", "E0308", "mismatched types: expected `usize`, found bigint `8n` (a `usize` is a `number`: write `8`)"],
    ["isize", "2 ** 63", LINT, outOfRange("isize", "9223372036854775808", I64_RANGE)],
    ["bool", "1", "E0308", "mismatched types: expected `bool`, found number `1`"],
    ["char", '"ab"', "E0308", 'mismatched types: expected `char`, found string "ab" (a `char` is a string of exactly one Unicode scalar value)'],
    ["char", '""', "E0308", 'mismatched types: expected `char`, found string "" (a `char` is a string of exactly one Unicode scalar value)'],
    ["char", "65", "E0308", "mismatched types: expected `char`, found number `65`"],
    ["f64", '"1"', "E0308", 'mismatched types: expected `f64`, found string "1"'],
    ["f32", "1n", "E0308", "mismatched types: expected `f32`, found bigint `1n`"],
  ];
  test.each(cases)("%s written with %s", async (layout, value, code, message) => {
    expectRejected(await both(writeProgram(layout, value)), code, message, 5);
  });

  test("a struct field, `Box.new`, a `local` and an atomic store check their values the same way", async () => {
    const source = `import { AtomicU8, Box, alloc, dealloc, local, struct, u16, u32 } from "kmiri/rt";
const S = struct("S", { a: u32, b: u16 });
const CASE: number = ${"__CASE__"};
export function main(): void {
  unsafe: {
    if (CASE === 0) { const p = alloc(S); p.write({ a: 1, b: 70000 }); dealloc(p, S); }
    if (CASE === 1) Box.new(u32, -3).drop();
    if (CASE === 2) local(u16, 1.25);
    if (CASE === 3) { const a = Box.new(AtomicU8, 0); a.as_ref().store(300, "Relaxed"); a.drop(); }
  }
}
`;
    const at = (n: number) => source.replace("__CASE__", String(n));
    expectRejected(await both(at(0)), LINT, outOfRange("u16", "70000", "0..=65535"), 6);
    expectRejected(await both(at(1)), LINT, outOfRange("u32", "-3", U32_RANGE), 7);
    expectRejected(await both(at(2)), "E0308", "mismatched types: expected `u16`, found floating-point number `1.25`", 8);
    expectRejected(await both(at(3)), LINT, outOfRange("u8", "300", "0..=255"), 9);
  });

  test("valid edge values still round-trip, the same in both runtimes", async () => {
    const source = `import { alloc, dealloc, bool, char, f32, f64, i16, i32, i64, i8, isize, u16, u32, u64, u8, usize, type Layout } from "kmiri/rt";
function rt<T>(l: Layout<T>, v: T): string {
  unsafe: {
    const p = alloc(l);
    p.write(v);
    const back = p.read();
    dealloc(p, l);
    return String(back);
  }
}
export function main(): void {
  console.log(rt(u32, 0), rt(u32, 2 ** 32 - 1), rt(u32, -0));
  console.log(rt(i32, -(2 ** 31)), rt(i32, 2 ** 31 - 1));
  console.log(rt(u8, 255), rt(i8, -128), rt(i8, 127), rt(u16, 65535), rt(i16, -32768));
  console.log(rt(u64, 2n ** 64n - 1n), rt(u64, 0n), rt(i64, -(2n ** 63n)), rt(i64, 2n ** 63n - 1n));
  console.log(rt(usize, 2 ** 32), rt(usize, 2 ** 53 - 1), rt(isize, -1), rt(isize, -(2 ** 40)));
  console.log(rt(bool, true), rt(bool, false), rt(char, "\\u{1F600}"), rt(char, "a"));
  console.log(rt(f32, NaN), rt(f64, -Infinity), rt(f64, 0.1), rt(f32, 1e300));
}
`;
    const { checked, native } = await both(source);
    expect(checked.ub).toEqual([]);
    expect(checked.panic).toBeUndefined();
    const expected = [
      "0 4294967295 0",
      "-2147483648 2147483647",
      "255 -128 127 65535 -32768",
      "18446744073709551615 0 -9223372036854775808 9223372036854775807",
      "4294967296 9007199254740991 -1 -1099511627776",
      "true false \u{1F600} a",
      "NaN -Infinity 0.1 Infinity",
    ];
    expect(checked.output).toEqual(expected);
    expect(native.panic).toBeUndefined();
    expect(native.output).toEqual(expected);
  });
});

test("a pointer moved below address 0 by `wrapping_sub` is still stored and read back (its address is no program `usize`)", async () => {
  const source = `import { alloc, dealloc, null_mut, ptr, u8 } from "kmiri/rt";
export function main(): void {
  unsafe: {
    const slot = alloc(ptr(u8));
    slot.write(null_mut(u8).wrapping_sub(1));
    console.log(String(slot.read().addr() === 2 ** 64));
    dealloc(slot, ptr(u8));
  }
}
`;
  const { checked, native } = await both(source);
  expect(checked.ub).toEqual([]);
  expect(checked.output).toEqual(["true"]);
  expect(native.output).toEqual(["true"]);
});

describe("a layout built wrong, or an argument that is no layout, is the program's error at the call", () => {
  const arrayLen = (found: string) => `mismatched types: expected \`usize\` for the length of \`array(u8, len)\`, found ${found}`;
  const notALayout = (call: string, param: string, found: string) =>
    `mismatched types: expected a layout (\`u8\`, \`array(…)\`, \`struct(…)\`, …) for the argument \`${param}\` of \`${call}\`, found ${found}`;

  /** A program that evaluates `expr` inside `main`, at line 4. */
  const inMain = (imports: string, expr: string) => `import { ${imports} } from "kmiri/rt";
export function main(): void {
  unsafe: {
    const x: any = ${expr};
    console.log(typeof x);
  }
}
`;

  const cases: [string, string, string][] = [
    ["array(u8, -5)", "E0308", arrayLen("number `-5`")],
    ["array(u8, 2.5)", "E0308", arrayLen("floating-point number `2.5`")],
    ["array(u8, NaN)", "E0308", arrayLen("floating-point number `NaN`")],
    ["array(u8, Infinity)", "E0308", arrayLen("floating-point number `Infinity`")],
    ['array(u8, "4" as any)', "E0308", arrayLen('string "4"')],
    ["array(undefined as any, 3)", "E0308", notALayout("array(elem, 3)", "elem", "`undefined`")],
    ["alloc(undefined as any)", "E0308", notALayout("alloc", "layout", "`undefined`")],
    ["alloc_zeroed(null as any)", "E0308", notALayout("alloc_zeroed", "layout", "`null`")],
    ["alloc(4 as any)", "E0308", notALayout("alloc", "layout", "number `4`")],
    ['Box.new("u32" as any, 1)', "E0308", notALayout("Box::new", "layout", 'string "u32"')],
    ["null_mut({} as any)", "E0308", notALayout("null_mut", "layout", "an object")],
    ["dealloc(alloc(u8), undefined as any)", "E0308", notALayout("dealloc", "layout", "`undefined`")],
    ["dealloc(undefined as any, u8)", "E0308", "mismatched types: expected a raw pointer for the argument `ptr` of `dealloc`, found `undefined`"],
    ["transmute(1, u32, undefined as any)", "E0308", notALayout("transmute", "to", "`undefined`")],
    ["null_mut(u8).cast(undefined as any)", "E0308", notALayout("Ptr::cast", "layout", "`undefined`")],
    ['struct("S", { a: u8, b: undefined as any })', "E0308", notALayout('struct("S", …)', "b", "`undefined`")],
    ["maybe_uninit(undefined as any)", "E0308", notALayout("maybe_uninit", "inner", "`undefined`")],
    ["size_of(undefined as any)", "E0308", notALayout("size_of", "layout", "`undefined`")],
    ["write_bytes(alloc(u8), 256, 1)", LINT, `${outOfRange("u8", "256", "0..=255")} (the argument \`val\` of \`write_bytes\`)`],
    ["realloc(alloc(u8), u8, -1)", LINT, `${outOfRange("usize", "-1", U64_RANGE)} (the argument \`new_size\` of \`realloc\`)`],
  ];
  const IMPORTS = "Box, alloc, alloc_zeroed, array, dealloc, maybe_uninit, null_mut, realloc, size_of, struct, transmute, u32, u8, write_bytes";
  test.each(cases)("%s", async (expr, code, message) => {
    expectRejected(await both(inMain(IMPORTS, expr)), code, message, 4);
  });

  test("at a module's top level too (the Machine runs it); natively the module throws", async () => {
    const source = `import { array, u8 } from "kmiri/rt";
export const BAD = array(u8, -5);
export function main(): void {}
`;
    const r = await kmiri.run({ source, fileName: FILE });
    expect(r.ub).toHaveLength(1);
    expect(r.ub[0]).toMatchObject({ kind: "unsupported", title: "error[E0308]", message: arrayLen("number `-5`"), location: { file: FILE, line: 2 } });
    await expect(kmiri.run({ source, fileName: FILE }, { native: true })).rejects.toThrow(
      new TypeError(`${arrayLen("number `-5`")} (rustc error E0308)`),
    );
  });

  test("outside any Machine (library use), the layout constructor throws a TypeError with the same message", async () => {
    // A Machine has run (and finished) in this process: it does not hear of these any more.
    await kmiri.run({ source: inMain("u8", "u8"), fileName: FILE });
    expect(() => array(u8, -5)).toThrow(new TypeError(`${arrayLen("number `-5`")} (rustc error E0308)`));
    expect(() => array(u8, 2.5)).toThrow(TypeError);
    expect(() => maybe_uninit(undefined as never)).toThrow(/expected a layout .* for the argument `inner` of `maybe_uninit`, found `undefined`/);
    expect(() => struct("S", { a: 5 as never })).toThrow(TypeError);
    // A value that does not fit, encoded without any memory, throws too.
    const view = new DataView(new ArrayBuffer(8));
    expect(() => u32.encode(view, 0, -1)).toThrow(/literal out of range for `u32`/);
    expect(() => unit.encode(view, 0, 5 as never)).toThrow(/expected `\(\)`, found number `5`/);
    // Valid arguments still build layouts.
    expect(array(u8, 0).size).toBe(0);
    expect(array(u32, 2 ** 10).size).toBe(4096);
  });
});

describe("a pointer to a `maybe_uninit` struct or array projects its fields and elements", () => {
  const program = (body: string) => `import { array, local, maybe_uninit, struct, u16, u32, u64 } from "kmiri/rt";
const Header = struct("Header", { base: u64, len: u32, flags: u16 });
export function main(): void {
  const slot = local(maybe_uninit(Header));
  const buf = local(maybe_uninit(array(u32, 3)));
  unsafe: {
    const p = slot.as_ptr();
    const q = buf.as_ptr();
${body}
  }
}
`;

  test("written field by field, then read whole: clean, the same natively", async () => {
    const { checked, native } = await both(
      program(`    p.field("base").write(7n); p.field("len").write(4096); p.field("flags").write(2);
    for (let i = 0; i < 3; i++) q.index(i).write(10 + i);
    const h = p.read();
    console.log(String(h.base), h.len, h.flags, p.field("len").read(), q.read().join(","));`),
    );
    expect(checked.ub).toEqual([]);
    expect(checked.panic).toBeUndefined();
    expect(checked.output).toEqual(["7 4096 2 4096 10,11,12"]);
    expect(native.output).toEqual(checked.output);
  });

  test("a projected field or element read before it is written is uninit", async () => {
    const field = await kmiri.run({ source: program(`    p.field("base").write(7n);\n    console.log(p.field("len").read());`), fileName: FILE });
    expect(field.ub).toHaveLength(1);
    expect(field.ub[0]).toMatchObject({ kind: "uninit", location: { line: 10 } });
    const elem = await kmiri.run({ source: program(`    q.index(0).write(1);\n    console.log(q.index(2).read());`), fileName: FILE });
    expect(elem.ub).toHaveLength(1);
    expect(elem.ub[0]).toMatchObject({ kind: "uninit", location: { line: 10 } });
  });

  test("a field that does not exist is still E0609, an index out of bounds still panics", async () => {
    const nofield = await both(program(`    (p as any).field("nope");`));
    expectRejected(nofield, "E0609", "no field `nope` on type `MaybeUninit<Header>`", 9);
    const oob = await kmiri.run({ source: program(`    q.index(3);`), fileName: FILE });
    expect(oob.panic?.message).toBe("index out of bounds: the len is 3 but the index is 3");
  });

  test("references project through `maybe_uninit` as pointers do", async () => {
    const { checked, native } = await both(
      program(`    slot.as_mut().field_mut("len").write(9);
    buf.as_mut().index_mut(1).write(5);
    console.log(slot.as_ptr().field("len").read(), buf.as_ptr().index(1).read());`),
    );
    expect(checked.ub).toEqual([]);
    expect(checked.output).toEqual(["9 5"]);
    expect(native.output).toEqual(["9 5"]);
  });
});
