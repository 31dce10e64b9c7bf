/**
 * The Mirch console: a 16550-style UART on 8 I/O ports (attach it with `ports: 8`), reduced to what
 * a kernel's early console uses. The transmit register (offset 0) sends a byte to the run's output;
 * the line status register (offset 5) always reads 0x60 (transmitter empty and holding register
 * empty), so a driver that polls it before each byte never waits. Bytes are collected into lines:
 * a `\n` hands the line (without the newline, and without a `\r` before it, as serial consoles send
 * CRLF) to `print`, so the run's output is line-based like `console.log`'s.
 *
 * The line control register (offset 3) is kept, and its DLAB bit (7) honoured, because a real 16550
 * driver programs the baud-rate divisor through offsets 0 and 1 with DLAB set; without it the
 * divisor's low byte would be printed as a character. Every other register reads 0 and ignores
 * writes: there is no receiver, no FIFO and no interrupt.
 */
import type { DeviceModel } from "../device-model.js";

/** Register offsets of the console UART (a subset of the 16550's). */
export const consoleRegisters = {
  /** Transmit holding register (write), or the divisor latch's low byte when DLAB is set. */
  THR: 0,
  /** Line control register: bit 7 is DLAB (divisor latch access). */
  LCR: 3,
  /** Line status register: reads {@link CONSOLE_LSR_READY}. */
  LSR: 5,
} as const;

/** The line status the console always reports: THRE (0x20) | TEMT (0x40), ready to transmit. */
export const CONSOLE_LSR_READY = 0x60;

/** LCR's divisor-latch-access bit: while set, offset 0 is the divisor, not the transmitter. */
const LCR_DLAB = 0x80;

/** A console device: a {@link DeviceModel} with a `flush` for the end of the run. */
export interface ConsoleDevice extends DeviceModel {
  /**
   * Hands a partial last line (bytes written since the last `\n`) to `print`. Call it when the run
   * ends so that output without a final newline is not lost; does nothing when no byte is pending.
   */
  flush(): void;
}

/**
 * Makes the Mirch console (`console_device()` of `kmiri/mirch`): a 16550-style UART, 8 ports.
 *
 * Wide accesses are split into bytes at consecutive offsets (an `out` of 2 bytes at offset 0 writes
 * offset 0 and offset 1, as on x86), so a driver that writes 16 bits to the transmitter sends only
 * the low byte.
 *
 * @param print receives each output line, without its line terminator, decoded as UTF-8.
 * @returns the device model, named `"console"`, with `flush()` for the end of the run.
 * @example
 * ```ts
 * const lines: string[] = [];
 * const uart = consoleDevice((line) => lines.push(line));
 * for (const c of "hi\n") uart.port_write!(0, 1, c.charCodeAt(0), ctx);
 * // lines: ["hi"]
 * ```
 */
export function consoleDevice(print: (text: string) => void): ConsoleDevice {
  const decoder = new TextDecoder();
  let line: number[] = [];
  let lcr = 0;

  const emit = (): void => {
    const bytes = Uint8Array.from(line);
    line = [];
    print(decoder.decode(bytes));
  };

  const readByte = (offset: number): number => {
    if (offset === consoleRegisters.LSR) return CONSOLE_LSR_READY;
    if (offset === consoleRegisters.LCR) return lcr;
    return 0;
  };

  const writeByte = (offset: number, byte: number): void => {
    if (offset === consoleRegisters.LCR) {
      lcr = byte;
    } else if (offset === consoleRegisters.THR && (lcr & LCR_DLAB) === 0) {
      if (byte === 0x0a) {
        if (line.length > 0 && line[line.length - 1] === 0x0d) line.pop();
        emit();
      } else {
        line.push(byte);
      }
    }
  };

  return {
    name: "console",
    port_read(offset, size) {
      let value = 0;
      for (let k = 0; k < size; k++) value |= readByte(offset + k) << (8 * k);
      return value >>> 0;
    },
    port_write(offset, size, value) {
      for (let k = 0; k < size; k++) writeByte(offset + k, (value >>> (8 * k)) & 0xff);
    },
    flush() {
      if (line.length > 0) emit();
    },
  };
}
