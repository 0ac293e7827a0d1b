#!/usr/bin/env node
// Bundles the browser demo (web/src/main.ts, which imports only zerodl's public API) into
// web/dist/main.js with esbuild. `npm run build:web`; `--watch` rebuilds on change.
import * as esbuild from "esbuild";
import { rm, stat } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

const webDir = fileURLToPath(new URL(".", import.meta.url));

/**
 * Node-only code in a browser bundle. The library reaches Node built-ins in two ways:
 * - dynamic imports that it guards with try/catch (worker threads, the CPU count): bundled as a
 *   module that throws, the import fails quietly and the fallback runs (left external, a browser
 *   would try to fetch "node:os" and log a CORS error);
 * - static imports in modules that also hold browser-safe code (model files: encodeModel beside
 *   saveModel; charts: their specs beside the PNG writer): bundled as a stand-in whose every export
 *   throws when used, so the module loads and only the Node-only function fails, naming what is
 *   missing. The Node-only packages (pngjs, resvg) are stood in for the same way.
 */
const nodeOnlyPackages = /^(pngjs|@resvg\/resvg-js)$/;
const nodeBuiltinsUnavailable = {
  name: "node-builtins-unavailable",
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({
      path: args.path,
      namespace: args.kind === "dynamic-import" ? "node-unavailable" : "node-stand-in",
    }));
    build.onResolve({ filter: nodeOnlyPackages }, (args) => ({
      path: args.path,
      namespace: "node-stand-in",
    }));
    build.onLoad({ filter: /.*/, namespace: "node-unavailable" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not available in a browser`)});`,
      loader: "js",
    }));
    build.onLoad({ filter: /.*/, namespace: "node-stand-in" }, (args) => ({
      contents: `const missing = ${JSON.stringify(`${args.path} is not available in a browser`)};
module.exports = new Proxy({}, {
  get(_, name) {
    if (name === "__esModule") return false;
    if (name === "then") return undefined;
    const use = () => { throw new Error(\`\${missing} (\${String(name)})\`); };
    return new Proxy(use, { get: use, construct: use });
  },
});`,
      loader: "js",
    }));
  },
};

const options = {
  entryPoints: [`${webDir}src/main.ts`],
  outdir: `${webDir}dist`,
  entryNames: "[name]",
  // The book's experiments and Vega (≈1 MB) are a chunk the page loads when it first needs them.
  splitting: true,
  chunkNames: "chunk-[hash]",
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  sourcemap: true,
  minify: !process.argv.includes("--dev"),
  // Class names survive minifying: error messages name layers by them ("layer 3 (Affine)").
  keepNames: true,
  plugins: [nodeBuiltinsUnavailable],
  logLevel: "warning",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
  process.stdout.write("build:web: watching web/src and src/ …\n");
} else {
  const t0 = performance.now();
  await rm(options.outdir, { recursive: true, force: true }); // no stale chunks
  const result = await esbuild.build({ ...options, metafile: true });
  const bytes = async (file) => (await stat(file)).size;
  const scripts = Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"));
  const sizes = await Promise.all(scripts.map(bytes));
  const main = sizes[scripts.findIndex((f) => f.endsWith("/main.js"))];
  const inputs = Object.keys(result.metafile.inputs).length;
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  process.stdout.write(
    `build:web: ${inputs} modules → web/dist/main.js (${kib(main)}) and ${scripts.length - 1} chunk(s) ` +
      `(${kib(sizes.reduce((a, b) => a + b, 0) - main)}) in ${(performance.now() - t0).toFixed(0)} ms\n`,
  );
}
