// A NIC driver counts received packets in a plain counter, bumped by the RX interrupt handler and
// by the polling path on the same CPU. The polling path updates it with local interrupts disabled
// (`irq_disable` / `irq_restore`), so the handler is ordered before or after the update. No UB.
import { Box, u64, yield_now } from "kmiri/rt";
import { alloc_irq_line, irq_disable, irq_restore } from "kmiri/mirch";

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
  const was = irq_disable();
  rx_packets.write(rx_packets.read() + 1n);
  irq_restore(was);
  const irq = irq_disable();
  console.log("rx", String(rx_packets.read()));
  irq_restore(irq);
  rx_packets.drop();
}
