/**
 * The WebGPU backend in headless Chromium. Debian's Chromium started with --enable-unsafe-webgpu
 * offers a WebGPU adapter backed by SwiftShader (a CPU implementation of Vulkan) to a secure-context
 * page (here: http://127.0.0.1). The page (webgpu-page.ts, bundled by esbuild) runs:
 * - every kernel parity case of test/kernel-cases.ts on the WebGPU kernels against the reference;
 * - float64 calls, which go to the reference kernels bit for bit;
 * and a page started without the flag gets a clear error instead of an adapter.
 *
 * Part of `npm run test:browser`; skipped with a message where Chromium is missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cases } from "../kernel-cases.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The flags that work on this closed network (see the demo's spec), plus WebGPU's. */
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

type PageApi = Record<string, (...args: unknown[]) => Promise<unknown>>;
/** Calls `window.zerodlWebGPU[name](...args)` in the page. */
async function call<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return (await page.evaluate(
    ([n, a]) =>
      (
        (globalThis as unknown as { zerodlWebGPU: PageApi }).zerodlWebGPU[n as string] as (
          ...x: unknown[]
        ) => Promise<unknown>
      )(...(a as unknown[])),
    [name, args] as const,
  )) as T;
}

describe.skipIf(!haveChromium)("WebGPU backend in headless Chromium (SwiftShader)", () => {
  let dir = "";
  let server: http.Server;
  let url = "";
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const esbuild = await import("esbuild");
    dir = mkdtempSync(path.join(tmpdir(), "zerodl-webgpu-"));
    await esbuild.build({
      entryPoints: [path.join(root, "test/browser/webgpu-page.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outfile: path.join(dir, "bundle.js"),
      logLevel: "silent",
    });
    writeFileSync(
      path.join(dir, "index.html"),
      '<!doctype html><script type="module" src="bundle.js"></script>',
    );
    server = http.createServer((req, res) => {
      const p = new URL(req.url ?? "/", "http://x").pathname;
      const file = p.startsWith("/data/mnist/")
        ? path.join(root, "data/mnist", path.basename(p))
        : path.join(dir, p === "/" ? "index.html" : path.basename(p));
      if (p === "/favicon.ico") {
        res.writeHead(204).end();
        return;
      }
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      const type = file.endsWith(".js")
        ? "text/javascript"
        : file.endsWith(".html")
          ? "text/html"
          : "application/octet-stream";
      res.writeHead(200, { "Content-Type": type }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: [...FLAGS, "--enable-unsafe-webgpu"] });
    page = await browser.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { zerodlReady?: boolean }).zerodlReady === true);
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("finds SwiftShader's adapter in a secure context", async () => {
    expect(await page.evaluate(() => globalThis.isSecureContext)).toBe(true);
    const r = await call<{ adapter?: string; error?: string }>(page, "setup");
    expect(r.error).toBeUndefined();
    expect(r.adapter).toBe("google swiftshader");
  });

  it("every kernel matches the float64 reference on odd and tail shapes", async () => {
    const { results, ms, dispatches } = await call<{
      results: { name: string; error?: string }[];
      ms: number;
      dispatches: number;
    }>(page, "parity");
    const failed = results.filter((r) => r.error).map((r) => `${r.name}: ${r.error?.slice(0, 300)}`);
    expect(failed).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(cases.map((c) => c.name));
    // They ran on the GPU: at least one dispatch per kernel call.
    expect(dispatches).toBeGreaterThan(cases.length * 2);
    console.log(
      `webgpu parity: ${results.length} cases, ${dispatches} dispatches in ${(ms / 1000).toFixed(1)} s`,
    );
  });

  it("float64 calls run the reference kernels, bit for bit", async () => {
    expect(await call<{ mismatches: string[] }>(page, "float64")).toEqual({ mismatches: [], dispatches: 0 });
  });

  it("reports no GPU or page errors", () => {
    expect(errors).toEqual([]);
  });

  it("without --enable-unsafe-webgpu: a clear error, not an adapter", async () => {
    const plain = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    try {
      const p = await plain.newPage();
      await p.goto(url);
      await p.waitForFunction(() => (globalThis as { zerodlReady?: boolean }).zerodlReady === true);
      const r = await call<{ error?: string; errorName?: string }>(p, "setup");
      expect(r.errorName).toBe("WebGPUUnavailableError");
      expect(r.error).toMatch(/no adapter .*--enable-unsafe-webgpu/);
    } finally {
      await plain.close();
    }
  });
});
