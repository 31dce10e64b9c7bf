// A NIC driver counts received packets in a plain counter, bumped by the RX interrupt handler and by
// the polling path on the same CPU with interrupts enabled. A handler is concurrent with the code it
// interrupts: the poll path's update after the interrupt was taken is a `data-race`.
import { Box, u64, yield_now } from "kmiri/rt";
import { alloc_irq_line } from "kmiri/mirch";

export function main(): void {
  const rx_packets = Box.new(u64, 0n);
  const rx_irq = alloc_irq_line();
  rx_irq.set_affinity(0);
  rx_irq.on_active(() => {
    rx_packets.write(rx_packets.read() + 1n); // one frame taken in the handler
  });

  rx_irq.raise(); // a frame arrives
  yield_now(); // the interrupt is taken here
  // the poll loop finds another frame in the ring
  rx_packets.write(rx_packets.read() + 1n); //~ ERROR: data-race
  console.log("rx", String(rx_packets.read()));
  rx_packets.drop();
}
