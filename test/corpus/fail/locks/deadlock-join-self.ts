import { spawn, spin_loop, JoinHandle } from "kmiri/rt";

let me: JoinHandle<void> | undefined;

export function main(): void {
  me = spawn(() => {
    while (!me) spin_loop(); // `me` is assigned after `spawn` returns
    me!.join(); //~ ERROR: deadlock
  });
  me.join(); //~ ERROR: deadlock
}
