import { spawn, JoinHandle } from "kmiri/rt";

let me: JoinHandle<void> | undefined;

export function main(): void {
  me = spawn(() => {
    me!.join(); //~ ERROR: deadlock
  });
  me.join(); //~ ERROR: deadlock
}
