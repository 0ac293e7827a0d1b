import { defineConfig } from "vitest/config";

// The browser suite (`npm run test:browser`): separate from `npm test` because it needs Chromium.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.spec.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
