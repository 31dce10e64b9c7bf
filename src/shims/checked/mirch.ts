/**
 * `kmiri/mirch` on the Machine: the Mirch pseudo-architecture's shims (CR3, TLB, DMA, MMIO, port
 * I/O, interrupts). Empty until the Mirch issue; the manifest (src/shims/manifest.ts) already
 * lists the module, so a program may import it.
 */
export {};
