// The CPU part of OSTD's `cpu` module that the sync primitives use (the current CPU, the number of
// CPUs, CPU-local storage, inter-processor calls): re-exported from `arch/cpu.ts`, the one place
// that talks to Mirch about CPUs.
export { cpu_local, current_cpu, inter_processor_call, num_cpus, type CpuLocal } from "../arch/cpu.js";
