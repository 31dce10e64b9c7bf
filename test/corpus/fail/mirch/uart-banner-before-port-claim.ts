// A serial driver prints its banner through the UART in `init`, before `probe` has claimed the
// UART's port range (OSTD's `IoPort` allocator hands out ports only to a claim). A port access
// outside every claimed range is `mmio`, at the first `port_read`.
import { spin_loop } from "kmiri/rt";
import { attach_device, console_device, io_port_claim, port_read, port_write } from "kmiri/mirch";

const THR = 0, LSR = 5;
const LSR_THRE = 0x20;

function putc(base: number, c: number): void {
  unsafe: {
    while ((port_read(base + LSR, 1) & LSR_THRE) === 0) spin_loop(); //~ ERROR: mmio
    port_write(base + THR, 1, c);
  }
}

function puts(base: number, s: string): void {
  for (const ch of s) putc(base, ch.charCodeAt(0));
}

export function main(): void {
  const uart = attach_device(console_device(), { ports: 8 });
  const base = uart.ports!.base;
  puts(base, "serial: 16550 UART\n"); // init
  io_port_claim(base, uart.ports!.len); // probe
  puts(base, "serial: ready\n");
}
