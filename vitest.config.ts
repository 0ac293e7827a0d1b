import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts", "experiments/**/*.test.ts"],
    // Guards against a hang, not bounds on speed: with two test suites running at once on a busy
    // 2-core host, single tests took up to 176 s (DeepConvNet's 10,000 test images) and the bench
    // smoke test 260 s. No test's outcome may depend on how fast the machine is.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
