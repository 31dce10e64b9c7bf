//@ flags: --preemption-rate 0
// `main` returns while a CPU it started is still running: its work (and whatever it holds) is
// never finished or released. Miri reports "the main thread terminated without waiting for all
// remaining threads" (unless leaks are ignored); so does kmiri, at the `spawn`.
import { spawn, yield_now } from "kmiri/rt";

export function main(): void {
  spawn(() => { //~ ERROR: leak
    for (let i = 0; i < 3; i++) yield_now();
  });
}
