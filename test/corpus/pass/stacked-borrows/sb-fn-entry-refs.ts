// References passed to functions: each argument is retagged on entry and protected until the
// function returns; the callee uses only its arguments, and the caller uses its references again
// after the call (popping the callee's tags, whose protection has ended). No UB.
import { Box, struct, u32 } from "kmiri/rt";
import type { Ref, RefMut } from "kmiri/rt";

const Page = struct("Page", { refcount: u32, flags: u32 });
type PageV = { refcount: number; flags: number };

function get_page(p: RefMut<PageV>): void {
  const rc = p.field_mut("refcount");
  rc.write(rc.read() + 1);
}

function is_shared(p: Ref<PageV>): boolean {
  return p.field("refcount").read() > 1;
}

function set_flag(flags: RefMut<number>, bit: number): void {
  flags.write(flags.read() | (1 << bit));
}

export function main(): void {
  const b = Box.new(Page, { refcount: 0, flags: 0 });
  const page = b.as_mut();
  for (let i = 0; i < 3; i++) {
    get_page(page.reborrow_mut());
    set_flag(page.field_mut("flags"), i);
    console.log(is_shared(page.reborrow()), page.read().flags);
  }
  page.write({ refcount: 0, flags: 0 });
  b.drop();
}
