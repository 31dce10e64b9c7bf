/**
 * The `kmiri/mirch` entry point: the Mirch pseudo-architecture's shims (CR3, TLB, DMA, MMIO, port
 * I/O, interrupts). Imported by a program running under kmiri, it is replaced by the checked
 * namespace; imported by plain Node, it is the native one. Its contents come with the Mirch
 * issue; the guest API manifest (manifest.ts) already declares it.
 */
export * from "./native/mirch.js";
