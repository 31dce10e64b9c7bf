// The contract's `Ordering` and `CasResult<T>` types (api/rt.d.ts) are importable from `kmiri/rt`:
// a helper that takes the ordering as a parameter and returns the compare-exchange's result, as
// OSTD's wrappers over `AtomicUsize` do.
import { AtomicUsize, static_, type CasResult, type Ordering } from "kmiri/rt";

const X = static_(AtomicUsize, 1);

function load(order: Ordering): number {
  return X.as_ref().load(order);
}

function bump(from: number, success: Ordering, failure: Ordering): CasResult<number> {
  return X.as_ref().compare_exchange(from, from + 1, success, failure);
}

export function main(): void {
  console.log(load("Acquire"));
  const r = bump(1, "AcqRel", "Acquire");
  console.log(r.ok, r.value, load("Relaxed"));
}
