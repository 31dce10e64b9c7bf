//@ flags: --max-steps 100000
export function main(): void {
  let spins = 0;
  for (;;) { //~ ERROR: resource-exhaustion
    spins++;
  }
}
