import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The WASM backend in a real browser (Chromium through playwright-core, when installed): a
 * cross-origin-isolated page runs it on 2 Web Worker threads with results bit-identical to 1 thread;
 * a plain page (no SharedArrayBuffer) runs the unshared single-thread module. Both match the
 * reference kernels, in the relaxed-SIMD modules (Chromium has relaxed SIMD since 114). Skipped
 * where no Chromium is found.
 */

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find((p) =>
  existsSync(p),
);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Runs in the page: parity with the reference and 1-vs-2-thread bit equality. */
const ENTRY = `
import { initWasm, relaxedSimdSupported, setParallelMinWork, setWasmThreads, wasmThreads } from "${root}/src/backend/wasm.ts";
import { reference } from "${root}/src/backend/reference.ts";
(async () => {
  try {
    const k = await initWasm({ threads: 2 });
    const threads = await wasmThreads();
    setParallelMinWork(0);
    const [m, kk, n] = [67, 300, 45];
    const a = new Float32Array(m * kk).map((_, i) => Math.sin(i));
    const b = new Float32Array(kk * n).map((_, i) => Math.cos(i));
    const ref = new Float32Array(m * n);
    reference.matmul(ref, a, b, m, kk, n, true, false);
    const two = new Float32Array(m * n);
    k.matmul(two, a, b, m, kk, n, true, false);
    await setWasmThreads(1);
    const one = new Float32Array(m * n);
    k.matmul(one, a, b, m, kk, n, true, false);
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(two[i] - ref[i]) / (1 + Math.abs(ref[i])));
    const identical = one.every((v, i) => Object.is(v, two[i]));
    const relaxed = relaxedSimdSupported();
    globalThis.result = { name: k.name, threads, isolated: globalThis.crossOriginIsolated, maxErr, identical, relaxed };
  } catch (e) {
    globalThis.result = { error: String(e) };
  }
})();
`;

describe.skipIf(!CHROMIUM)("wasm backend in Chromium", () => {
  let dir = "";
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    const esbuild = await import("esbuild");
    dir = mkdtempSync(path.join(os.tmpdir(), "zerodl-browser-"));
    writeFileSync(path.join(dir, "entry.ts"), ENTRY);
    await esbuild.build({
      entryPoints: [path.join(dir, "entry.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      outfile: path.join(dir, "bundle.js"),
      logLevel: "silent",
    });
    const bundle = (await import("node:fs")).readFileSync(path.join(dir, "bundle.js"));
    server = http.createServer((req, res) => {
      // /isolated/… pages get the headers that make a page cross-origin isolated.
      const headers: Record<string, string> = req.url?.startsWith("/isolated/")
        ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }
        : {};
      if (req.url?.endsWith("/bundle.js")) {
        res.writeHead(200, { "Content-Type": "text/javascript", ...headers });
        res.end(bundle);
      } else {
        res.writeHead(200, { "Content-Type": "text/html", ...headers });
        res.end('<!doctype html><script type="module" src="bundle.js"></script>');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function runPage(prefix: string): Promise<Record<string, unknown>> {
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/${prefix}/index.html`);
      const handle = await page.waitForFunction(() => (globalThis as { result?: unknown }).result, null, {
        timeout: 30_000,
      });
      return (await handle.jsonValue()) as Record<string, unknown>;
    } finally {
      await browser.close();
    }
  }

  it("a cross-origin-isolated page runs 2 Web Worker threads, bit-identical to 1", async () => {
    const r = await runPage("isolated");
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ name: "wasm", threads: 2, isolated: true, identical: true, relaxed: true });
    expect(r.maxErr as number).toBeLessThan(1e-5);
  });

  it("a plain page runs the unshared module on one thread", async () => {
    const r = await runPage("plain");
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ name: "wasm", threads: 1, isolated: false, identical: true, relaxed: true });
    expect(r.maxErr as number).toBeLessThan(1e-5);
  });
});
