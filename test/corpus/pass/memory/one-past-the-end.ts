import { alloc_zeroed, dealloc, array, u32 } from "kmiri/rt";

export function main(): void {
  unsafe: {
    const arr = alloc_zeroed(array(u32, 4));
    const p = arr.cast(u32);
    const end = p.add(4);
    let sum = 0;
    for (let q = p; q.addr() < end.addr(); q = q.add(1)) sum += q.read();
    console.log(end.offset_from(p), sum);
    dealloc(arr, array(u32, 4));
  }
}
