/**
 * The `kmiri/mirch` entry point: the Mirch pseudo-architecture's shims (CR3, TLB, DMA, MMIO, port
 * I/O, interrupts). Imported by a program running under kmiri, it is replaced by the checked
 * namespace; imported by plain Node, it is the native one. Its reference is docs/api/mirch.md in
 * the package (generated from these declarations by scripts/api-docs.mjs).
 */
export * from "./native/mirch.js";
