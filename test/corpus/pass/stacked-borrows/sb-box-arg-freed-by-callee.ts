// A `Box` passed to a function that frees it: the argument is only weakly protected, so the callee
// may deallocate it through itself (Miri's both_borrows: a `Box` argument is `noalias`, not
// `dereferenceable` for the whole call).
import { Box, struct, u32 } from "kmiri/rt";

const Request = struct("Request", { id: u32, len: u32 });
type RequestV = { id: number; len: number };

function complete(req: Box<RequestV>): number {
  const id = req.read().id;
  req.drop();
  return id;
}

export function main(): void {
  let done = 0;
  for (let i = 0; i < 4; i++) done += complete(Box.new(Request, { id: i, len: 512 }));
  console.log("completed", done);
}
