// FINDING (fuzz): the report of a recursion that exhausts the stack depends on the host, not on
// the program and the seed. kmiri stops the run when V8 throws its RangeError (`Maximum call stack
// size exceeded`) and reports `the program exhausted the stack, N calls deep` with a backtrace
// whose middle reads `... M frames omitted ...`: N and M are how many program frames fit in the
// host thread's native stack at that moment. So the same program and seed give
//   - 8970 calls deep under `kmiri run`, 35499 under `kmiri run --many-seeds` (a worker thread has
//     a bigger stack), 8969 through the library from a test;
//   - fewer calls when the library is called from a deeper stack (8968, 8797, 7254 from 0, 200,
//     2000 frames deep);
//   - off by one between two runs of one process (35437 then 35436 frames omitted, as V8's JIT
//     changes frame sizes: found by the fuzzer as a replay that differs from its run).
// README: "the same seed gives byte-identical output"; `--many-seeds`: "The result does not
// depend on the number of workers" (with 0 workers, in the caller's thread, it does).
//
// src/interp/machine.ts `stopRecursion` (≈ line 700) reports `this.depth()` when `settle`
// (≈ line 631) sees the host's stack overflow (`isStackOverflowError`). A call-depth limit of
// kmiri's own (like --max-steps for loops), well below any host's stack, would make it
// deterministic.
//
// Generator feature: `bug.resource.recursion`.
function deep(n: number): number {
  return deep(n + 1) + 1;
}

export function main(): void {
  console.log(deep(0));
}
