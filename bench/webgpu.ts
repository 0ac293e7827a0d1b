/**
 * `npm run bench:webgpu [-- --quick] [-- --json] [-- --models two-layer,simple-conv,deep-conv]`:
 * the WebGPU backend against the WASM backend, timed in one browser page (bench/webgpu-page.ts):
 * kernels at SimpleConvNet's shapes (both tilings of the product), matmul GFLOP/s, and models'
 * training ms per iteration (a step recorded whole, then its loss read back, as `stepsAsync` runs
 * it) and inference images/s.
 *
 * By default the page runs in headless Chromium (Debian's, /usr/bin/chromium, or CHROMIUM_PATH)
 * with --enable-unsafe-webgpu: its adapter is SwiftShader, a CPU implementation of Vulkan, so the
 * numbers say nothing about a real GPU. `--serve` only serves the page and prints its URL, to open
 * in a browser on a machine with a GPU (the results appear on the page, as JSON).
 */
import * as esbuild from "esbuild";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM, CHROMIUM_FLAGS } from "../test/browser/chromium.js";
import type { BenchResult } from "./webgpu-page.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const quick = args.includes("--quick");
const serveOnly = args.includes("--serve");
const modelsArg = args.indexOf("--models");
const models = modelsArg >= 0 ? (args[modelsArg + 1] ?? "").split(",") : undefined;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const dir = mkdtempSync(path.join(os.tmpdir(), "zerodl-bench-webgpu-"));
await esbuild.build({
  entryPoints: [path.join(root, "bench/webgpu-page.ts")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  outfile: path.join(dir, "bench.js"),
  logLevel: "warning",
  // Node built-ins are reached only through guarded dynamic imports (see web/build.mjs).
  plugins: [
    {
      name: "node-builtins-unavailable",
      setup(build) {
        build.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: "node-unavailable" }));
        build.onLoad({ filter: /.*/, namespace: "node-unavailable" }, () => ({
          contents: "throw new Error('not in a browser');",
          loader: "js",
        }));
      },
    },
  ],
});
const page = `<!doctype html><meta charset="utf-8"><title>zerodl WebGPU bench</title>
<p>zerodl's WebGPU bench: <button id="go">run</button> (a few minutes on a CPU adapter)</p><pre id="out"></pre>
<script type="module">import "./bench.js";
document.getElementById("go").onclick = () => zerodlBench.run();</script>`;
// Cross-origin isolated, so that the WASM kernels it is compared with run on every core.
const server = http.createServer((req, res) => {
  const headers = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
  };
  if (req.url === "/bench.js") {
    res
      .writeHead(200, { ...headers, "Content-Type": "text/javascript" })
      .end(readFileSync(path.join(dir, "bench.js")));
  } else if (req.url === "/" || req.url === "/index.html") {
    res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end(page);
  } else {
    res.writeHead(404).end();
  }
});
await new Promise<void>((resolve) => server.listen(serveOnly ? 8090 : 0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

if (serveOnly) {
  console.log(`bench:webgpu: open ${url} in a browser with WebGPU and press "run" (Ctrl-C to stop)`);
} else {
  if (!existsSync(CHROMIUM)) {
    console.error(
      `bench:webgpu: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
    process.exit(1);
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS, "--enable-unsafe-webgpu"],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(url);
    await tab.waitForFunction(() => (globalThis as { zerodlBenchReady?: boolean }).zerodlBenchReady);
    const load = os.loadavg()[0];
    const result = (await tab.evaluate(
      (o) =>
        (globalThis as unknown as { zerodlBench: { run(o: unknown): Promise<unknown> } }).zerodlBench.run(o),
      { quick, models },
    )) as BenchResult;
    if (json) console.log(JSON.stringify({ ...result, loadAverage: [load, os.loadavg()[0]] }));
    else report(result, load);
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: BenchResult, load: number): void {
  const cpu = /swiftshader/i.test(r.adapter);
  console.log(
    `WebGPU adapter: ${r.adapter}${cpu ? " (a CPU implementation: these are not GPU numbers)" : ""}`,
  );
  console.log(
    `${r.userAgent.match(/Chrom\S+/)?.[0] ?? r.userAgent}; WASM on ${r.wasmThreads} thread(s); load ${load.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}`,
  );
  console.log(
    "\nWebGPU kernels at SimpleConvNet's shapes (batch 100), ms per call (the other tiling of the product in brackets):",
  );
  for (const k of r.kernels) {
    const other = k.msOtherTiling === null ? "" : ` (${k.msOtherTiling.toFixed(1)})`;
    console.log(`  ${k.name.padEnd(46)} ${k.ms.toFixed(1).padStart(9)}${other}`);
  }
  console.log("\nWebGPU matmul GFLOP/s (the other tiling in brackets):");
  for (const m of r.matmul)
    console.log(
      `  ${m.shape.padEnd(22)} ${m.gflops.toFixed(2).padStart(8)} (${m.gflopsOtherTiling.toFixed(2)})`,
    );
  console.log("\nModels, batch 100:                 ms/iter (fastest–slowest block)     img/s");
  for (const m of r.models) {
    const range = `${m.range[0].toFixed(1)}–${m.range[1].toFixed(1)}`;
    console.log(
      `  ${`${m.model} ${m.backend}`.padEnd(28)} ${m.msPerIteration.toFixed(1).padStart(10)}  (${range})`.padEnd(
        66,
      ) + m.imagesPerSecond.toFixed(0).padStart(9),
    );
  }
}
