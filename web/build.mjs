#!/usr/bin/env node
// Bundles the browser demo (web/src/main.ts, which imports only zerodl's public API) into
// web/dist/main.js with esbuild. `npm run build:web`; `--watch` rebuilds on change.
import * as esbuild from "esbuild";
import { stat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

const webDir = fileURLToPath(new URL(".", import.meta.url));

const options = {
  entryPoints: [`${webDir}src/main.ts`],
  outfile: `${webDir}dist/main.js`,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  sourcemap: true,
  minify: !process.argv.includes("--dev"),
  // The library reaches Node built-ins only through guarded dynamic imports (worker threads, the
  // CPU count, the file-system data chain); in a browser those imports fail and are caught.
  external: ["node:*"],
  logLevel: "warning",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
  process.stdout.write("build:web: watching web/src and src/ …\n");
} else {
  const t0 = performance.now();
  const result = await esbuild.build({ ...options, metafile: true });
  const bytes = (await stat(options.outfile)).size;
  const inputs = Object.keys(result.metafile.inputs).length;
  process.stdout.write(
    `build:web: ${inputs} modules → web/dist/main.js (${(bytes / 1024).toFixed(0)} KiB) in ${(performance.now() - t0).toFixed(0)} ms\n`,
  );
}
