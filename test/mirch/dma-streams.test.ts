/** Streaming-DMA ownership: the sequences the contract allows and the ones it reports. */
import { describe, expect, test } from "vitest";
import { DmaStreams } from "../../src/mirch/dma-streams.js";

const BUF = 0x40_0000;

describe("DmaStreams", () => {
  test("to-device: CPU writes, syncs for the device, device reads", () => {
    const d = new DmaStreams();
    expect(d.begin(BUF, 0x1000, "to-device")).toBeNull();
    expect(d.cpuWrite(BUF, 0x100)).toBeNull();
    expect(d.deviceRead(BUF, 0x1000)).toMatch(/the device reads 0x400000, .* no dma_sync_for_device since/);
    expect(d.syncForDevice(BUF, 0x1000)).toBeNull();
    expect(d.deviceRead(BUF, 0x1000)).toBeNull();
    // The CPU writes again without a sync: the device would read stale memory.
    d.cpuWrite(BUF + 0x80, 4);
    expect(d.deviceRead(BUF, 0x1000)).toMatch(/0x400080/);
    expect(d.deviceWrite(BUF, 4)).toMatch(/to-device/);
  });

  test("a device read of bytes the CPU never wrote is fine while the CPU owns them", () => {
    const d = new DmaStreams();
    d.begin(BUF, 0x1000, "bidirectional");
    expect(d.deviceRead(BUF, 0x1000)).toBeNull();
  });

  test("from-device: device writes after sync_for_device; CPU reads after sync_for_cpu", () => {
    const d = new DmaStreams();
    d.begin(BUF, 0x1000, "from-device");
    expect(d.deviceWrite(BUF, 8)).toMatch(/CPU owns: no dma_sync_for_device/);
    const e = new DmaStreams();
    e.begin(BUF, 0x1000, "from-device");
    e.cpuWrite(BUF, 0x1000); // zeroing the buffer: a device read of it is allowed in from-device
    expect(e.syncForDevice(BUF, 0x1000)).toBeNull();
    expect(e.deviceRead(BUF, 0x1000)).toBeNull();
    expect(e.deviceWrite(BUF + 0x10, 0x20)).toBeNull();
    expect(e.cpuRead(BUF, 0x10)).toBeNull(); // bytes the device did not write
    expect(e.cpuRead(BUF, 0x20)).toMatch(/the CPU reads 0x400010, .* no dma_sync_for_cpu since/);
    expect(e.syncForCpu(BUF, 0x1000)).toBeNull();
    expect(e.cpuRead(BUF, 0x1000)).toBeNull();
    // The CPU owns the buffer again: a device write now is reported.
    expect(e.deviceWrite(BUF, 1)).toMatch(/CPU owns/);
  });

  test("a partial sync covers only its bytes", () => {
    const d = new DmaStreams();
    d.begin(BUF, 0x2000, "bidirectional");
    d.syncForDevice(BUF, 0x2000);
    d.deviceWrite(BUF, 0x2000);
    d.syncForCpu(BUF, 0x1000);
    expect(d.cpuRead(BUF, 0x1000)).toBeNull();
    expect(d.cpuRead(BUF + 0xff0, 0x20)).toMatch(/0x401000/);
  });

  test("memory outside every stream is unchecked; end may end part of a stream", () => {
    const d = new DmaStreams();
    expect(d.cpuRead(BUF, 8)).toBeNull();
    d.begin(BUF, 0x2000, "bidirectional");
    d.syncForDevice(BUF, 0x2000);
    d.deviceWrite(BUF, 0x2000);
    expect(d.inStream(BUF - 8, 16)).toBe(true);
    expect(d.end(BUF + 0x1000, 0x1000)).toBeNull();
    expect(d.inStream(BUF + 0x1000, 0x1000)).toBe(false);
    expect(d.cpuRead(BUF + 0x1000, 8)).toBeNull();
    expect(d.cpuRead(BUF, 8)).not.toBeNull();
    expect(d.size).toBe(0x1000);
    expect(d.stateAt(BUF)).toEqual({ direction: "bidirectional", owner: "device", cpuWrote: false, deviceWrote: true });
  });

  test("problems: overlapping begin, end or sync of bytes in no stream", () => {
    const d = new DmaStreams();
    d.begin(BUF, 0x1000, "to-device");
    expect(d.begin(BUF + 0xff0, 0x20, "to-device")).toMatch(/byte 0x400ff0 is already in a DMA stream/);
    expect(d.end(BUF + 0xff0, 0x20)).toMatch(/byte 0x401000 is in no DMA stream/);
    expect(d.syncForCpu(BUF - 1, 2)).toMatch(/in no DMA stream/);
    expect(d.size).toBe(0x1000); // nothing changed
    expect(d.begin(-5, 1, "to-device")).toMatch(/not a range/);
  });
});
