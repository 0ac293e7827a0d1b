/** How the browser tests and `npm run bench:webgpu` start Chromium. */

/** Debian's Chromium (`apt-get install chromium`), or the one CHROMIUM_PATH names. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags that work here: as root (no sandbox), without a GPU process, and with no traffic of its own
 * on this closed network (QUIC, background requests, component updates, sync).
 */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
