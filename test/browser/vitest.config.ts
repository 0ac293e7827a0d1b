import { defineConfig } from "vitest/config";

// The browser suite (`npm run test:browser`): separate from `npm test` because it needs Chromium.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.spec.ts"],
    // Hang guards, not speed bounds (as in the main suite): on the shared 2-core machine at a load
    // average of ~40, opening the playground alone has taken over 3 minutes.
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
