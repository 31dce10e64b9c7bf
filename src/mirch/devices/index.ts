/**
 * The device models that ship with Mirch, as host code: the console UART and the virtio block
 * device. The `kmiri/mirch` shims wrap them as `console_device()` and `virtio_device()`; a
 * simulator can attach them, or its own models, through the same `DeviceModel` interface.
 */
export type { AttachedDevice, DeviceContext, DeviceModel, IrqLineLike } from "../device-model.js";
export { CONSOLE_LSR_READY, consoleDevice, consoleRegisters } from "./console.js";
export type { ConsoleDevice } from "./console.js";
export { virtioBlockDevice, virtioConstants, virtioDiskPattern } from "./virtio-blk.js";
export type { VirtioBlockDevice, VirtioBlockOptions } from "./virtio-blk.js";
