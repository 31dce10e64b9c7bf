// A serial driver claims the UART's port range in `probe` before anything touches the ports, and
// prints its banner only then, waiting for the transmitter to be empty before each byte. The
// bytes appear in the run's output. No UB.
import { spin_loop } from "kmiri/rt";
import { attach_device, console_device, io_port_claim, io_port_release, port_read, port_write } from "kmiri/mirch";

const THR = 0, LSR = 5;
const LSR_THRE = 0x20;

function putc(base: number, c: number): void {
  unsafe: {
    while ((port_read(base + LSR, 1) & LSR_THRE) === 0) spin_loop();
    port_write(base + THR, 1, c);
  }
}

function puts(base: number, s: string): void {
  for (const ch of s) putc(base, ch.charCodeAt(0));
}

export function main(): void {
  const uart = attach_device(console_device(), { ports: 8 });
  const base = uart.ports!.base;
  io_port_claim(base, uart.ports!.len); // probe
  puts(base, "serial: 16550 UART\n");
  puts(base, "serial: ready\n");
  io_port_release(base, uart.ports!.len);
}
