/**
 * The layout names of `kmiri/rt` (the contract, api/rt.d.ts): what both runtimes export of
 * src/interp/memory/layouts.ts. Only these: the module's other exports (the hooks that set the
 * default memory, the error reporter or the realm of values, its internal helpers) are kmiri's,
 * and a program that could call them would change how kmiri checks it.
 */
export {
  u8,
  u16,
  u32,
  u64,
  usize,
  i8,
  i16,
  i32,
  i64,
  isize,
  f32,
  f64,
  bool,
  char,
  unit,
  ptr,
  array,
  struct,
  cell,
  enum_,
  maybe_uninit,
  AtomicU8,
  AtomicU16,
  AtomicU32,
  AtomicU64,
  AtomicUsize,
  AtomicBool,
  AtomicPtr,
  size_of,
  align_of,
  offset_of,
} from "../interp/memory/layouts.js";
export type { Layout, Value } from "../interp/memory/layouts.js";
