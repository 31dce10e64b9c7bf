// FIXED by commits 7dcc264, bb2cd05 and e8dbc4a (kept as a regression test: fuzz.test.ts runs it
// and expects no internal error). FINDING (fuzz, Mirch family, at HEAD d8693fa): three `kmiri/mirch`
// shims failed inside kmiri on an argument of the wrong type instead of reporting it:
// `inter_processor_call(f, 1)` (`TypeError: cpus is not iterable`: the shim spread `cpus`),
// `retype_pages(pa, 1, 1n)` (`Do not know how to serialize a BigInt`: the message JSON-encoded the
// page type; `dma_stream_begin`'s direction too) and `port_write(port, Symbol(), v)` (`Cannot
// convert a Symbol value to a string`: src/interp/mirch/devices.ts `portCheck` put the size in a
// template string before checking it).
//
// Generator features: `misuse.mirch.arg.inter_processor_call.1.*`,
// `misuse.mirch.arg.{retype_pages.2,dma_stream_begin.2}.{bigint,negbigint}`,
// `misuse.mirch.arg.{port_read,port_write}.1.symbol`. Each call below is a test of its own.
import { ktest } from "kmiri/rt";
import { alloc_pages, dma_stream_begin, inter_processor_call, io_port_claim, memory_regions, port_write, retype_pages } from "kmiri/mirch";

const ram = () => memory_regions().find((r) => r.kind === "ram")!.start;

ktest("cpus not an array", () => {
  inter_processor_call(() => {}, 1 as any);
});

ktest("page type a bigint", () => {
  unsafe: {
    alloc_pages(ram(), 1);
    retype_pages(ram(), 1, 1n as any);
  }
});

ktest("direction a bigint", () => {
  unsafe: {
    alloc_pages(ram(), 1);
  }
  dma_stream_begin(ram(), 4096, -1n as any);
});

ktest("port size a symbol", () => {
  io_port_claim(0x3f8, 8);
  unsafe: {
    port_write(0x3f8, Symbol("s") as any, 65);
  }
});
