/**
 * The engine-free core of the Mirch pseudo-architecture, as the library exports it to simulators:
 * the constants and types of the contract, page-table entries and the software MMU (walker,
 * permission and CR3 checks, boot-table builder), physical page states, the TLB, the IOMMU,
 * streaming-DMA ownership, the I/O space and interrupt lines. Nothing here knows the interpreter:
 * memory is reached through callbacks, and checks return problems for the caller to report.
 */
export * from "./constants.js";
export * from "./pte.js";
export * from "./physical-memory.js";
export * from "./page-table.js";
export * from "./tlb.js";
export * from "./iommu.js";
export * from "./dma-streams.js";
export * from "./io-space.js";
export * from "./irq-lines.js";
export * from "./device-model.js";
export * from "./devices/index.js";
