import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.spec.ts"],
    // The engine tests compile programs with tsc once per file; a cold cache takes a few seconds.
    testTimeout: 60_000,
    pool: "forks",
  },
});
