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
import { CHROMIUM, CHROMIUM_FLAGS as FLAGS } from "./chromium.js";

const haveChromium = existsSync(CHROMIUM);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

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

  it("the products and transposes tiled in workgroup memory (for GPUs) match too", async () => {
    // The adapter here is SwiftShader, whose default skips workgroup memory (see webgpuKernels).
    const { results } = await call<{ results: { name: string; error?: string }[] }>(
      page,
      "parity",
      true,
      "matmul|transpose|fused convolution forward/backward n=2 c=3 5×5",
    );
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(results.length).toBeGreaterThan(100);
  });

  it("float64 calls run the reference kernels, bit for bit", async () => {
    expect(await call<{ mismatches: string[] }>(page, "float64")).toEqual({ mismatches: [], dispatches: 0 });
  });

  interface Run {
    history: { loss: number[]; trainAcc: number[]; testAcc: number[] };
    ms: number;
    buffers: number[];
    liveBytes: number[];
    reads: number;
    uploads: number;
  }

  /** The page's training run on WASM and WebGPU; the loss curves agree to `rtol` at every step. */
  async function sameTraining(
    spec: Record<string, unknown>,
    params: number,
    iterations: number,
    trainSize: number,
    testSize: number,
    maxGradNorm?: number,
  ): Promise<Run> {
    const r = await call<{ wasm: Run; webgpu: Run }>(
      page,
      "training",
      spec,
      "adam",
      iterations,
      trainSize,
      testSize,
      maxGradNorm,
    );
    const { wasm, webgpu } = r;
    expect(webgpu.history.loss).toHaveLength(iterations);
    const drift = webgpu.history.loss.map(
      (l, i) => Math.abs(l - wasm.history.loss[i]) / wasm.history.loss[i],
    );
    expect(Math.max(...drift)).toBeLessThan(1e-4);
    // It learns: the mean loss of the last 5 steps is below that of the first 5.
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(webgpu.history.loss.slice(-5))).toBeLessThan(mean(webgpu.history.loss.slice(0, 5)));
    // The same predictions, up to a sample in a hundred where a score is a near tie.
    webgpu.history.testAcc.forEach((a, i) =>
      expect(Math.abs(a - wasm.history.testAcc[i])).toBeLessThanOrEqual(0.01),
    );
    webgpu.history.trainAcc.forEach((a, i) =>
      expect(Math.abs(a - wasm.history.trainAcc[i])).toBeLessThanOrEqual(0.01),
    );
    // Memory is recycled step by step: no buffer is made and no array memory kept after step 2.
    expect(webgpu.buffers.at(-1)).toBe(webgpu.buffers[1]);
    expect(webgpu.liveBytes.at(-1)).toBe(webgpu.liveBytes[1]);
    // Values come back only when asked: one read per step (its loss), one per evaluated batch and,
    // once an epoch, the weights (checked for overflow).
    const epochs = webgpu.history.testAcc.length;
    const evalBatches = epochs * (Math.ceil(trainSize / 100) + Math.ceil(testSize / 100));
    expect(webgpu.reads).toBe(iterations + evalBatches + epochs * params);
    console.log(
      `${String(spec.kind)}: ${iterations} steps, WASM ${(wasm.ms / 1000).toFixed(1)} s, WebGPU ${(webgpu.ms / 1000).toFixed(1)} s, ` +
        `largest loss difference ${Math.max(...drift).toExponential(1)}`,
    );
    return webgpu;
  }

  it("trains MultiLayerNetExtend (batch norm, dropout, weight decay) with WASM's loss curve", async () => {
    const spec = {
      kind: "multi-layer-extend",
      inputShape: [784],
      outputSize: 10,
      hiddenSizeList: [100, 100],
      activation: "relu",
      weightInitStd: "relu",
      weightDecayLambda: 0.001,
      useBatchnorm: true,
      useDropout: true,
      dropoutRatio: 0.2,
    };
    await sameTraining(spec, 10, 30, 1000, 300); // W, b ×3; gamma, beta ×2
  });

  it("trains SimpleConvNet (the fused convolution–ReLU–pooling) with WASM's loss curve", async () => {
    await sameTraining({ kind: "simple-conv", inputShape: [1, 28, 28], outputSize: 10 }, 6, 6, 300, 100);
  });

  it("trains a graph network (LeakyReLU, Add, Concat, transposed convolution, global average pooling, clipped gradients) with WASM's loss curve", async () => {
    const graph = {
      inputs: [{ name: "x", shape: [1, 28, 28] }],
      nodes: [
        { name: "c1", type: "convolution", inputs: ["x"], filters: 4, fh: 3, fw: 3, stride: 2, pad: 1 },
        { name: "r1", type: "leaky-relu", inputs: ["c1"], alpha: 0.2 },
        { name: "c2", type: "convolution", inputs: ["r1"], filters: 4, fh: 3, fw: 3, pad: 1 },
        { name: "c3", type: "convolution", inputs: ["r1"], filters: 3, fh: 1, fw: 1 },
        { name: "skip", type: "add", inputs: ["r1", "c2"] },
        { name: "cat", type: "concat", inputs: ["skip", "c3"] },
        { name: "up", type: "deconvolution", inputs: ["cat"], filters: 5, fh: 2, fw: 2, stride: 2 },
        { name: "gap", type: "global-average-pooling", inputs: ["up"] },
        { name: "fc", type: "affine", inputs: ["gap"], outputSize: 10 },
      ],
    };
    const spec = { kind: "graph", inputShape: [1, 28, 28], outputSize: 10, graph };
    // W and b of five layers; the gradients clipped to norm 1 on both backends.
    await sameTraining(spec, 10, 10, 300, 100, 1);
  });

  it("runs the recurrent time loops, Embedding, Concat and gradient clipping on the GPU, as the reference does", async () => {
    const r = await call<{ checked: string[]; mismatches: string[]; readsWhileRunning: number }>(
      page,
      "layers",
    );
    expect(r.mismatches).toEqual([]);
    expect(r.checked).toHaveLength(30);
    // Nothing came back to the host while they ran: the loops are on the GPU.
    expect(r.readsWhileRunning).toBe(0);
  });

  it("keeps values on the GPU until read, and recycles a model's arrays at its next step", async () => {
    const r = await call<Record<string, unknown>>(page, "residency");
    // A prediction stays on the device; reading `data` says how to get it, `read()` brings it home.
    expect(r.scoresData).toMatch(/NDArray \(2, 3\) lives on the WebGPU device.*`await a.read\(\)` first/);
    expect(r.scores).toHaveLength(6);
    expect(r.scoresDataAfterRead).toEqual(r.scores);
    expect(r.inputStillOnHost).toEqual([0.5, -1, 2, 0.25, 1, 1, -0.5, 0]);
    // Methods that return numbers say what to use instead.
    expect(r.loss).toMatch(/loss\(\): the webgpu backend sends values back asynchronously; use .*runAsync/);
    expect(r.accuracy).toMatch(/accuracy\(\): .*accuracyAsync/);
    expect(r.accuracyAsync).toBeGreaterThanOrEqual(0);
    // Gradients are readable until the model's next step, which recycles them; the step's loss and
    // a prediction (returned to the caller) are kept.
    expect(r.gradBeforeNextStep).toBe(20);
    expect(r.recycledData).toMatch(/NDArray \(5, 3\) was a model's intermediate value from an earlier step/);
    expect(r.recycledRead).toEqual(r.recycledData);
    expect(r.lossKeptAcrossSteps).toBeCloseTo(Math.log(3), 2);
    expect(r.predictKept).toEqual(r.scores);
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
