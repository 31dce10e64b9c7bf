// The values of atomic operations: wrapping arithmetic at each type's width, the bit operations,
// `swap`, compare-exchange results, `AtomicBool` and `AtomicPtr` (single-threaded, so the
// same on the Machine and natively).
import { AtomicBool, AtomicPtr, AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Box, null_mut, u32 } from "kmiri/rt";

export function main(): void {
  const a8 = Box.new(AtomicU8, 250);
  console.log(a8.as_ref().fetch_add(10, "Relaxed"), a8.as_ref().load("Relaxed")); // 250 4
  const a16 = Box.new(AtomicU16, 0);
  console.log(a16.as_ref().fetch_sub(1, "SeqCst"), a16.as_ref().load("SeqCst")); // 0 65535
  const a32 = Box.new(AtomicU32, 0xf0f0_f0f0);
  a32.as_ref().fetch_and(0x0ff0_0ff0, "AcqRel");
  a32.as_ref().fetch_or(1, "AcqRel");
  a32.as_ref().fetch_xor(0xffff_ffff, "AcqRel");
  console.log(a32.as_ref().load("Acquire").toString(16)); // 0xff0ff0f0 ^ ... printed in hex
  const a64 = Box.new(AtomicU64, 0n);
  console.log(a64.as_ref().fetch_sub(1n, "Relaxed"), a64.as_ref().load("Relaxed")); // 0n u64::MAX
  const au = Box.new(AtomicUsize, 7);
  console.log(au.as_ref().swap(9, "Relaxed"), au.as_ref().compare_exchange(9, 11, "SeqCst", "Relaxed").ok, au.as_ref().load("Relaxed"));
  console.log(au.as_ref().compare_exchange(9, 12, "SeqCst", "Relaxed").value); // fails: 11
  const ab = Box.new(AtomicBool, false);
  console.log(ab.as_ref().fetch_or(true, "Relaxed"), ab.as_ref().fetch_xor(true, "Relaxed"), ab.as_ref().fetch_and(true, "Relaxed"), ab.as_ref().load("Relaxed"));
  const target = Box.new(u32, 5);
  const ap = Box.new(AtomicPtr(u32), null_mut(u32));
  const raw = Box.into_raw(target);
  console.log(ap.as_ref().swap(raw, "AcqRel").is_null());
  unsafe: {
    console.log(ap.as_ref().load("Acquire").read());
    Box.from_raw(raw).drop();
  }
  for (const b of [a8, a16, a32, a64, au, ab, ap] as { drop(): void }[]) b.drop();
}
