// `read_status` fills an out-parameter only when the device is ready and forgets the other case;
// the caller passes `&raw mut status` of an uninitialised local and reads it back. The local was
// never written, so the read is of uninitialised memory: UB.
import { local, u32 } from "kmiri/rt";
import type { Ptr } from "kmiri/rt";

function read_status(out: Ptr<number>, ready: boolean): void {
  "unsafe";
  if (ready) out.write(1);
}

export function main(): void {
  const status = local(u32); // let mut status: u32;
  unsafe: {
    read_status(status.as_ptr(), false);
    const s = status.as_ptr().read(); //~ ERROR: uninit
    console.log(s);
  }
}
