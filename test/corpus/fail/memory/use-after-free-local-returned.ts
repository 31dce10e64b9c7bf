// `make_request` builds a block-I/O request in a stack local and returns a raw pointer to it. The
// local dies when the function returns (its stack slot is deallocated), so the caller reads through
// a dangling pointer: a use after free, like a pointer to a dead local in Rust.
import { local, struct, u32, u64 } from "kmiri/rt";
import type { Ptr, Value } from "kmiri/rt";

const IoRequest = struct("IoRequest", { sector: u64, len: u32 });
type IoRequestV = Value<typeof IoRequest>;

function make_request(sector: bigint): Ptr<IoRequestV> {
  const req = local(IoRequest, { sector, len: 512 });
  return req.as_ptr();
}

export function main(): void {
  const p = make_request(8n);
  unsafe: {
    const req = p.read(); //~ ERROR: use-after-free
    console.log(req.len);
  }
}
