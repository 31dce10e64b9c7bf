//@ flags: --ignore-leaks
// The same program with leaks ignored (Miri's -Zmiri-ignore-leaks): a thread still running when
// `main` returns is then not reported.
import { spawn, yield_now } from "kmiri/rt";

export function main(): void {
  spawn(() => {
    for (let i = 0; i < 3; i++) yield_now();
  });
}
