/** Interrupt lines: allocation, handlers and affinity, and the per-CPU FIFO of pending interrupts. */
import { describe, expect, test } from "vitest";
import { IRQ_NUM_MAX, IRQ_NUM_MIN } from "../../src/mirch/constants.js";
import { IrqLines } from "../../src/mirch/irq-lines.js";

describe("IrqLines", () => {
  test("allocates the lowest free number, or the one asked for", () => {
    const irq = new IrqLines<() => void>();
    expect(irq.alloc()).toMatchObject({ num: IRQ_NUM_MIN });
    expect(irq.alloc(40)).toMatchObject({ num: 40 });
    expect(irq.alloc()).toMatchObject({ num: IRQ_NUM_MIN + 1 });
    expect(irq.alloc(40)).toMatch(/already allocated/);
    expect(irq.alloc(31)).toMatch(/out of range/);
    expect(irq.alloc(IRQ_NUM_MAX + 1)).toMatch(/out of range/);
    expect(irq.free(32)).toBe(true);
    expect(irq.alloc()).toMatchObject({ num: 32 });
  });

  test("runs out", () => {
    const irq = new IrqLines();
    for (let n = IRQ_NUM_MIN; n <= IRQ_NUM_MAX; n++) irq.alloc();
    expect(irq.alloc()).toMatch(/no free interrupt line/);
  });

  test("handlers and affinity", () => {
    const irq = new IrqLines<string>();
    irq.alloc(33);
    expect(irq.onActive(33, "a")).toBe(true);
    irq.onActive(33, "b");
    expect(irq.setAffinity(33, 2)).toBe(true);
    expect(irq.line(33)).toEqual({ num: 33, handlers: ["a", "b"], affinity: 2 });
    expect(irq.onActive(34, "c")).toBe(false);
  });

  test("pending interrupts: per CPU, FIFO", () => {
    const irq = new IrqLines<never, string>();
    irq.alloc(32);
    irq.alloc(33);
    irq.raise(33, 1, "first");
    irq.raise(32, 1, "second");
    irq.raise(32, 0, "other cpu");
    expect(irq.raise(50, 0, "no such line")).toBe(false);
    expect(irq.pendingFor(1).map((p) => p.num)).toEqual([33, 32]);
    expect(irq.take(1)).toEqual({ num: 33, data: "first" });
    expect(irq.take(1)).toEqual({ num: 32, data: "second" });
    expect(irq.take(1)).toBeUndefined();
    expect(irq.hasPending(1)).toBe(false);
    expect(irq.hasPending(0)).toBe(true);
    irq.clearPending();
    expect(irq.pendingFor(0)).toEqual([]);
  });
});
