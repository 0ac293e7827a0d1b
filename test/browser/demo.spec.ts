/**
 * The browser demo (web/) in headless Chromium: MNIST loaded through fetchSource from the demo's
 * server, a short training run driven by the page's UI, drawing and prediction, no console errors.
 *
 * Run with `npm run test:browser` (it builds the bundle first). Needs Debian's Chromium
 * (`apt-get install -y chromium`); without it the suite is skipped with a message.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../../src/data/mnist.js";
import { decodeImage } from "../../src/io/image.js";
import { loadModel } from "../../src/io/model-file.js";
import { argmaxRows } from "../../src/train/metrics.js";
import { assertAllClose } from "../../src/testing/gradcheck.js";
import { prepareImage } from "../../src/io/input-image.js";
import { typedDigits } from "../fixtures/typed-digits.js";
import {
  closeDemo,
  correlation,
  haveChromium,
  mean,
  openDemo,
  screenshot,
  snapshot,
  train,
  type DemoWindow,
  type LayerValues,
  type Session,
} from "./demo-page.js";

describe.skipIf(!haveChromium)("browser demo (headless Chromium)", () => {
  let session: Session | undefined;
  let page: Page;
  let consoleErrors: string[] = [];
  let firstLosses: number[] = [];

  beforeAll(async () => {
    session = await openDemo(true);
    ({ page, errors: consoleErrors } = session);
  });

  afterAll(() => closeDemo(session));

  it("is cross-origin isolated and names its backend", async () => {
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    await page.evaluate(() => (window as unknown as DemoWindow).zerodlDemo.ready);
    const { backend } = await snapshot(page);
    expect(backend?.isolated).toBe(true);
    // Chromium has WebAssembly SIMD, and the isolated page shares the memory with Web Workers: one
    // thread per core, the page's own included.
    expect(backend?.name).toBe("wasm");
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(backend?.threads).toBe(cores);
    expect(page.workers()).toHaveLength(cores - 1);
    // Chromium has relaxed SIMD (since 114): the products' multiply-adds are fused.
    expect(backend?.note).toMatch(/^WebAssembly relaxed-SIMD kernels \(fused multiply-add\) on \d+ threads/);
    expect(await page.textContent("#backend")).toBe(
      `backend: wasm SIMD · ${cores} thread${cores > 1 ? "s" : ""}`,
    );
  });

  it("offers WebGPU only where the browser has an adapter (here, without the flag, none)", async () => {
    const { gpu } = await snapshot(page);
    expect(gpu).toMatchObject({ adapter: null, reason: "WebGPU offers no adapter here" });
    const option = page.locator('#kernels option[value="webgpu"]');
    expect(await option.isDisabled()).toBe(true);
    expect(await option.textContent()).toBe("WebGPU (unavailable)");
  });

  it("switches kernels from the page: reference, then WebAssembly again", async () => {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await page.selectOption("#kernels", "reference");
    await page.waitForFunction(
      () => document.getElementById("backend")!.textContent === "backend: reference",
    );
    expect((await snapshot(page)).backend?.name).toBe("reference");
    await page.selectOption("#kernels", "wasm");
    await page.waitForFunction(() => document.getElementById("backend")!.textContent!.includes("wasm"));
    expect((await snapshot(page)).backend).toMatchObject({ name: "wasm", threads: cores });
  });

  it("loads MNIST through fetchSource: 60000/10000 images with the published first labels", async () => {
    const { data, errors } = await snapshot(page);
    expect(errors).toEqual([]);
    expect(data?.train).toBe(60000);
    expect(data?.test).toBe(10000);
    // The first labels of the original files (train-labels: 5 0 4 1 9 …, t10k-labels: 7 2 1 0 4 …).
    expect(data?.trainLabels).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(data?.testLabels).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(await page.textContent("#data-status")).toContain("60,000 training and 10,000 test images");
  });

  it("trains TwoLayerNet from the controls: the loss falls and test accuracy rises", async () => {
    const { run, errors } = await train(page, "two-layer", 10000, 2);
    expect(errors).toEqual([]);
    firstLosses = run!.losses;
    expect(run!.iterations).toBe(200); // 2 epochs of 10000 / 100
    expect(run!.losses).toHaveLength(200);
    expect(run!.losses.every(Number.isFinite)).toBe(true);
    // An untrained 10-class net starts near ln 10 ≈ 2.30.
    expect(mean(run!.losses.slice(0, 5))).toBeGreaterThan(2.0);
    expect(mean(run!.losses.slice(-10))).toBeLessThan(0.6 * mean(run!.losses.slice(0, 10)));
    expect(run!.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    const final = run!.epochs[1];
    expect(final.testAcc).toBeGreaterThan(0.8); // on the first 1,000 test images (chance: 0.1)
    expect(final.trainAcc).toBeGreaterThan(0.8);
    expect(run!.testAccuracy).toBeGreaterThan(0.8); // on all 10,000
    expect(Math.abs(run!.testAccuracy! - final.testAcc)).toBeLessThan(0.05);
    expect(run!.probes.length).toBeGreaterThan(0);
    // The WASM kernels on every thread agree with the reference kernels, in the page.
    const difference = await page.evaluate(() =>
      (window as unknown as DemoWindow).zerodlDemo.compareWithReference(500),
    );
    expect(difference).toBeLessThan(1e-4);
    expect(await page.textContent("#progress-text")).toMatch(/^Done: epoch 2\/2 · iteration 200\/200/);
  });

  it("pauses, resumes and restarts: a restarted run repeats the first one exactly", async () => {
    // Clicks the pause button from inside the page, in the first frame at which the run has reached
    // `from` iterations: a click from outside might come only after the whole (fast) run.
    const pauseAt = (from: number) =>
      page.evaluate(
        (from) =>
          new Promise<number>((resolve) => {
            const demo = (window as unknown as DemoWindow).zerodlDemo;
            const check = () => {
              const iteration = demo.snapshot().run?.iteration ?? 0;
              if (iteration < from) return void requestAnimationFrame(check);
              document.getElementById("pause")!.click();
              resolve(iteration);
            };
            check();
          }),
        from,
      );
    const iteration = async () => (await snapshot(page)).run?.iteration ?? 0;
    await page.click("#train"); // restart, same settings
    const paused = await pauseAt(20);
    expect(paused).toBeLessThan(200);
    await page.waitForTimeout(300);
    expect(await iteration()).toBe(paused);
    expect(await page.textContent("#pause")).toBe("Resume");
    await page.evaluate(() => document.getElementById("pause")!.click()); // resume
    const pausedAgain = await pauseAt(paused + 1);
    expect(pausedAgain).toBeGreaterThan(paused);
    expect(pausedAgain).toBeLessThan(200);
    await page.click("#train"); // restart from a paused run
    await page.waitForFunction(
      () => (window as unknown as DemoWindow).zerodlDemo.snapshot().run?.done === true,
    );
    const { run } = await snapshot(page);
    // Seeded, and identical for any thread count and any split into frames.
    expect(run!.losses).toEqual(firstLosses);
  });

  it("predicts test images put on the pad; the pad's 28×28 input matches the image", async () => {
    const indices = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    let right = 0;
    for (const index of indices) {
      const result = await page.evaluate(async (i) => {
        const demo = (window as unknown as DemoWindow).zerodlDemo;
        const label = await demo.showTestImage(i);
        return { label, image: demo.testImage(i), snap: demo.snapshot() };
      }, index);
      const { prediction, input } = result.snap;
      expect(input).toHaveLength(784);
      // Enlarged 10× and brought back by the MNIST-style scaling and centring, the digit is unchanged
      // (a shift by one pixel would give a correlation near 0.5).
      expect(correlation(input!, result.image)).toBeGreaterThan(0.99);
      expect(prediction!.probabilities).toHaveLength(10);
      expect(mean(prediction!.probabilities) * 10).toBeCloseTo(1, 5);
      if (prediction!.guess === result.label) right++;
    }
    expect(right).toBeGreaterThanOrEqual(9);
  });

  it("prepares a picture on the pad exactly as `zerodl predict` prepares the same picture file", async () => {
    const [width, height] = await page.evaluate(() => (window as unknown as DemoWindow).zerodlDemo.padSize());
    // Two typed digits per face (28 pictures), light on dark as drawn on the pad, at the pad's size.
    const pictures = typedDigits(1, 5, {
      canvas: [width, height],
      lightOnDark: true,
      pngOnly: true,
      digits: [2, 7],
    });
    for (const picture of pictures) {
      const rgba = decodeImage(picture.bytes, picture.file);
      const expected = prepareImage(rgba, { width: 28, height: 28 }).image.pixels;
      const input = await page.evaluate((data) => {
        const demo = (window as unknown as DemoWindow).zerodlDemo;
        demo.showPicture(data);
        return demo.snapshot().input;
      }, Buffer.from(rgba.data).toString("base64")); // a string crosses to the page ~100× faster than an array
      expect(input, picture.description).toHaveLength(784);
      const worst = input!.reduce((w, v, i) => Math.max(w, Math.abs(v - expected[i])), 0);
      expect(worst, picture.description).toBeLessThan(1e-6);
    }
  });

  it("predicts a digit drawn with the mouse: a vertical stroke is a centred 1", async () => {
    await page.click("#clear");
    expect((await snapshot(page)).prediction).toBeNull();
    const box = (await page.locator("#pad").boundingBox())!;
    // A stroke left of the pad's centre: centring must move it to the middle.
    const x = box.x + box.width * 0.3;
    await page.mouse.move(x, box.y + box.height * 0.15);
    await page.mouse.down();
    await page.mouse.move(x + box.width * 0.03, box.y + box.height * 0.85, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(
      () => (window as unknown as DemoWindow).zerodlDemo.snapshot().prediction !== null,
    );
    const { prediction, input } = await snapshot(page);
    let mass = 0;
    let cx = 0;
    let cy = 0;
    input!.forEach((v, i) => {
      mass += v;
      cx += v * (i % 28);
      cy += v * Math.floor(i / 28);
    });
    expect(Math.abs(cx / mass - 14)).toBeLessThan(1);
    expect(Math.abs(cy / mass - 14)).toBeLessThan(1);
    expect(prediction!.guess).toBe(1);
    expect(await page.textContent("#guess")).toBe("1");
    await page.screenshot({ path: screenshot("demo-trained.png"), fullPage: true });
  });

  it("trains SimpleConvNet a few steps (selectable network)", async () => {
    const { run, errors } = await train(page, "simple-conv", 1000, 1);
    expect(errors).toEqual([]);
    expect(run!.config.architecture).toBe("simple-conv");
    expect(run!.losses).toHaveLength(10);
    expect(run!.losses.every(Number.isFinite)).toBe(true);
    expect(mean(run!.losses.slice(-3))).toBeLessThan(mean(run!.losses.slice(0, 3)));
    await page.screenshot({ path: screenshot("demo-conv.png"), fullPage: true });
  });

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});

describe.skipIf(!haveChromium)("browser demo without cross-origin isolation", () => {
  let session: Session | undefined;

  beforeAll(async () => {
    session = await openDemo(false);
  });

  afterAll(() => closeDemo(session));

  it("runs the WASM kernels on one thread, loads MNIST and trains", async () => {
    const { page, errors } = session!;
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
    await page.evaluate(() => (window as unknown as DemoWindow).zerodlDemo.ready);
    const { backend, data } = await snapshot(page);
    // No SharedArrayBuffer: the unshared-memory module, no workers.
    expect(backend).toMatchObject({ name: "wasm", threads: 1, isolated: false });
    expect(page.workers()).toHaveLength(0);
    expect(await page.textContent("#isolation")).toBe("not isolated (1 thread)");
    expect(data?.train).toBe(60000);
    const { run } = await train(page, "two-layer", 1000, 1);
    expect(run!.losses).toHaveLength(10);
    expect(run!.losses.every(Number.isFinite)).toBe(true);
    expect(errors).toEqual([]);
  });
});

describe.skipIf(!haveChromium)("browser demo on WebGPU (Chromium's SwiftShader adapter)", () => {
  let session: Session | undefined;

  beforeAll(async () => {
    session = await openDemo(true, ["--enable-unsafe-webgpu"], "?backend=webgpu");
  });

  afterAll(() => closeDemo(session));

  it("runs on the WebGPU kernels, names the adapter, and trains as the WASM kernels do", async () => {
    const { page, errors } = session!;
    await page.evaluate(() => (window as unknown as DemoWindow).zerodlDemo.ready);
    const { backend, gpu } = await snapshot(page);
    // SwiftShader is a CPU adapter: offered, not the default (?backend=webgpu asks for it).
    expect(gpu).toMatchObject({ adapter: "google swiftshader", cpu: true });
    expect(backend).toMatchObject({ name: "webgpu", adapter: "google swiftshader" });
    expect(await page.textContent("#backend")).toBe("backend: webgpu · google swiftshader");
    expect(await page.locator("#kernels").inputValue()).toBe("webgpu");
    const onGpu = await train(page, "two-layer", 1000, 1);
    expect(onGpu.run!.losses).toHaveLength(10);
    expect(onGpu.run!.probes.length).toBeGreaterThan(0);
    // The same seeded run on the WASM kernels: the same losses to float32 rounding.
    await page.selectOption("#kernels", "wasm");
    await page.waitForFunction(() => document.getElementById("backend")!.textContent!.includes("wasm"));
    const onCpu = await train(page, "two-layer", 1000, 1);
    onGpu.run!.losses.forEach((l, i) => expect(Math.abs(l - onCpu.run!.losses[i])).toBeLessThan(1e-4 * l));
    expect(Math.abs(onGpu.run!.epochs[0].testAcc - onCpu.run!.epochs[0].testAcc)).toBeLessThanOrEqual(0.01);
    expect(errors).toEqual([]);
  });

  it("predicts drawn digits on the GPU and agrees with the reference kernels", async () => {
    const { page, errors } = session!;
    await page.selectOption("#kernels", "webgpu");
    await page.waitForFunction(() => document.getElementById("backend")!.textContent!.includes("webgpu"));
    const { run } = await train(page, "two-layer", 1000, 1);
    expect(run!.losses).toHaveLength(10);
    await page.evaluate(() => (window as unknown as DemoWindow).zerodlDemo.showTestImage(0));
    await page.waitForFunction(
      () => (window as unknown as DemoWindow).zerodlDemo.snapshot().prediction !== null,
    );
    const { prediction } = await snapshot(page);
    expect(mean(prediction!.probabilities) * 10).toBeCloseTo(1, 5);
    const difference = await page.evaluate(() =>
      (window as unknown as DemoWindow).zerodlDemo.compareWithReference(100),
    );
    expect(difference).toBeLessThan(1e-4);
    expect(errors).toEqual([]);
  });

  it("runs the playground on the GPU: the shipped networks, save and load", async () => {
    const { page, errors } = session!;
    expect((await snapshot(page)).backend).toMatchObject({ name: "webgpu" });
    const demo = (method: string, ...args: unknown[]) => call(page, method, ...args);
    // The trained network of the previous test, saved (its weights come home from the GPU) and
    // loaded back: the same predictions.
    const copy = await demo("loadModel", await demo("saveModel"), "copy.safetensors");
    expect(await demo("classify", copy, 200)).toEqual(await demo("classify", "trained", 200));
    // The shipped networks classify the test images on the GPU as the library does in Node.
    const { test } = await loadMnist({ onNote: () => {} });
    for (const id of ["two-layer", "simple-conv"]) {
      const { model } = await loadModel(`models/${id}.safetensors`);
      const x =
        model.spec.inputShape.length === 3
          ? test.x.sliceRows(0, 200).reshape(-1, 1, 28, 28)
          : test.x.sliceRows(0, 200);
      expect(await demo("classify", id, 200), id).toEqual(Array.from(argmaxRows(model.predict(x))));
    }
    expect(errors).toEqual([]);
  });

  it("shows the layer views on the GPU, with the WASM kernels' values", async () => {
    const { page, errors } = session!;
    const demo = (method: string, ...args: unknown[]) => call(page, method, ...args);
    const views = () => snapshot(page).then((s) => s.views);
    await page.evaluate(() => (window as unknown as DemoWindow).zerodlDemo.ready);
    // Chapter 7's views of a network chosen in the page: each layer's output for the pad's image
    // (maps of the 4-D ones) and the activations' histograms over 200 test images. (The check this
    // replaces waited for SimpleConvNet's maps while the page showed the TwoLayerNet loaded just
    // before, which has none: it timed out on the test's mistake, not on the GPU.)
    const look = async (backend: string) => {
      expect((await snapshot(page)).backend).toMatchObject({ name: backend });
      // TwoLayerNet first, so that the SimpleConvNet views waited for below are computed anew.
      await demo("selectClassifier", "two-layer");
      await page.waitForFunction(() => {
        const v = (window as unknown as DemoWindow).zerodlDemo.snapshot().views;
        return v.maps.length === 0 && v.histograms.length === 1 && !v.beforeAfter;
      });
      await demo("selectClassifier", "simple-conv");
      await demo("showTestImage", 3);
      await page.waitForFunction(() => {
        const v = (window as unknown as DemoWindow).zerodlDemo.snapshot().views;
        return v.maps.length === 3 && v.histograms.length === 2 && v.beforeAfter;
      });
      const layers: Record<string, LayerValues[]> = {};
      for (const id of ["two-layer", "simple-conv"])
        layers[id] = (await demo("layerValues", id, 10)) as LayerValues[];
      return { views: await views(), layers };
    };
    const onGpu = await look("webgpu");
    expect(onGpu.views.maps).toEqual(["1 Convolution", "2 Relu", "3 Pooling"]);
    expect(onGpu.views.responses).toBe(true);
    expect(onGpu.views.histograms).toEqual([
      expect.stringMatching(/^layer 1 \(ReLU, \d+ % zero\)$/),
      expect.stringMatching(/^layer 2 \(ReLU, \d+ % zero\)$/),
    ]);
    await page.selectOption("#kernels", "wasm");
    await page.waitForFunction(() => document.getElementById("backend")!.textContent!.includes("wasm"));
    const onCpu = await look("wasm");
    expect(onGpu.views).toEqual(onCpu.views);
    for (const id of ["two-layer", "simple-conv"]) {
      const gpu = onGpu.layers[id];
      const cpu = onCpu.layers[id];
      expect(gpu.map((o) => [o.name, o.shape])).toEqual(cpu.map((o) => [o.name, o.shape]));
      expect(gpu.map((o) => o.name)).toEqual(
        id === "simple-conv"
          ? ["1 Convolution", "2 Relu", "3 Pooling", "4 Affine", "5 Relu", "6 Affine"]
          : ["1 Affine", "2 Relu", "3 Affine"],
      );
      gpu.forEach((o, i) => {
        const [g, c] = [floats(o.values), floats(cpu[i].values)];
        expect(g.length).toBe(o.shape.reduce((a, b) => a * b, 1));
        assertAllClose(g, c, 1e-4, 1e-4, `${id} ${o.name}`);
      });
    }
    expect(errors).toEqual([]);
  });
});

const floats = (base64: string) => new Float32Array(Uint8Array.from(Buffer.from(base64, "base64")).buffer);

/** Calls `window.zerodlDemo[method](...args)` in the page. */
function call(page: Page, method: string, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(
    ([m, a]) =>
      (
        (window as unknown as DemoWindow).zerodlDemo as unknown as Record<
          string,
          (...x: unknown[]) => unknown
        >
      )[m as string](...(a as unknown[])),
    [method, args] as const,
  );
}
