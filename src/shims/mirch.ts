/**
 * The `kmiri/mirch` entry point: the Mirch pseudo-architecture's shims (CR3, TLB, DMA, MMIO, port
 * I/O, interrupts). The package exports it so that programs can already import it; its contents
 * come with the Mirch issue, and the README lists them as not yet available.
 */
export {};
