// The local-interrupt part of OSTD's `arch` (ostd/src/arch/*/irq.rs and `trap`), on Mirch.
import { alloc_irq_line as mirch_alloc_irq_line, in_interrupt_context, irq_disable, irq_restore, irqs_enabled, type IrqLine } from "kmiri/mirch";

export type { IrqLine };

/** Disables local interrupts: whether they were enabled (OSTD's `local_irq_disable` + save). */
export function irq_disable_local(): boolean {
  return irq_disable();
}

/** Restores local interrupts to `was_enabled`. */
export function irq_restore_local(was_enabled: boolean): void {
  irq_restore(was_enabled);
}

/** Whether local interrupts are enabled. */
export function is_local_enabled(): boolean {
  return irqs_enabled();
}

/** Whether the CPU runs an interrupt handler. */
export function in_interrupt(): boolean {
  return in_interrupt_context();
}

/** An interrupt line (OSTD's `IrqLine::alloc`/`alloc_specific`): its number, handlers, raising. */
export function alloc_irq_line(num?: number): IrqLine {
  return mirch_alloc_irq_line(num);
}
