/**
 * The browser playground (web/) opened in headless Chromium, for the browser specs: the page's
 * test handle (`window.zerodlDemo`) and its snapshot's shape, a server and a fresh profile per
 * session, training through the page's controls.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startServer } from "../../web/serve.mjs";
import { CHROMIUM, CHROMIUM_FLAGS } from "./chromium.js";

export const haveChromium = existsSync(CHROMIUM);
export const haveBundle = existsSync(new URL("../../web/dist/main.js", import.meta.url));
if (!haveChromium) {
  console.warn(`test:browser skipped: no Chromium at ${CHROMIUM} (install it: apt-get install -y chromium)`);
}

/** What the page's `window.zerodlDemo.snapshot()` returns (web/src/main.ts). */
export interface Snapshot {
  backend: { name: string; threads: number; isolated: boolean; adapter?: string; note: string } | null;
  gpu: { adapter: string | null; cpu: boolean; reason: string } | null;
  data: { train: number; test: number; trainLabels: number[]; testLabels: number[]; ms: number } | null;
  run: {
    config: { architecture: string; trainSize: number; epochs: number; batchSize: number; seed: number };
    iteration: number;
    iterations: number;
    done: boolean;
    losses: number[];
    epochs: { epoch: number; trainAcc: number; testAcc: number; loss: number }[];
    probes: { iteration: number; accuracy: number }[];
    /** All 10,000 test images, measured (in frame slices) after the last step. */
    testAccuracy?: number;
    trainingMs: number;
  } | null;
  runs: { label: string; iterations: number; testAccuracy?: number }[];
  classifier: string;
  classifiers: { id: string; label: string; dataset: string }[];
  prediction: { probabilities: number[]; guess: number } | null;
  evaluation: { classifier: string; accuracy: number; count: number; mistakes: number } | null;
  views: {
    filters: boolean;
    responses: boolean;
    beforeAfter: boolean;
    maps: string[];
    histograms: string[];
    mistakesShown: number;
  };
  experiments: { name: string; summary: string; figures: number; seconds: number }[];
  input: number[] | null;
  errors: string[];
}
export interface Demo {
  ready: Promise<void>;
  snapshot(): Snapshot;
  showTestImage(index: number): Promise<number>;
  padSize(): [number, number];
  showPicture(rgbaBase64: string): Promise<void>;
  compareWithReference(n: number): Promise<number>;
  testImage(index: number): number[];
  experimentsListed: Promise<void>;
  selectClassifier(id: string): void;
  saveModel(): string;
  loadModel(base64: string, fileName: string): string;
  classify(id: string, n: number): Promise<number[]>;
  /** Every layer's output for the first n test images through network `id` (float32 values, base64). */
  layerValues(
    id: string,
    n: number,
  ): Promise<{ name: string; shape: number[]; values: string }[] | undefined>;
  evaluate(): Promise<number | null>;
  runExperiment(name: string): Promise<{ summary: string; figures: number; seconds: number }>;
  /** The params of the network being trained: name and shape. */
  runParams(): [string, number[]][];
}
/** One layer's output as the page's `layerValues` sends it. */
export interface LayerValues {
  name: string;
  shape: number[];
  /** Float32 values, base64 (a string crosses to the page far faster than an array). */
  values: string;
}
export type DemoWindow = Window & { zerodlDemo: Demo };

export const snapshot = (page: Page) =>
  page.evaluate(() => (window as unknown as DemoWindow).zerodlDemo.snapshot());
/** Where screenshots go (web/dist/, ignored by git), to look at after a run. */
export const screenshot = (name: string) => new URL(`../../web/dist/${name}`, import.meta.url).pathname;
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Pearson correlation of two pixel vectors. */
export function correlation(a: number[], b: number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Trains through the page's controls and waits for the run to finish. */
export async function train(page: Page, model: string, trainSize: number, epochs: number): Promise<Snapshot> {
  await page.selectOption("#model", model);
  await page.selectOption("#train-size", String(trainSize));
  await page.fill("#epochs", String(epochs));
  await page.click("#train");
  // Finished: trained, and measured on all 10,000 test images.
  await page.waitForFunction(
    () => (window as unknown as DemoWindow).zerodlDemo.snapshot().run?.testAccuracy !== undefined,
    null,
    {
      timeout: 600_000,
      polling: 250,
    },
  );
  return snapshot(page);
}

/** The demo served (with or without cross-origin isolation) and open in a fresh Chromium profile. */
export interface Session {
  server: Awaited<ReturnType<typeof startServer>>;
  context: BrowserContext;
  page: Page;
  profile: string;
  /** Console errors, uncaught page errors and failed requests, as they happen. */
  errors: string[];
}

/** `flags`: Chromium's extra flags; `query`: the page's (e.g. "?backend=webgpu"). */
export async function openDemo(isolated: boolean, flags: string[] = [], query = ""): Promise<Session> {
  if (!haveBundle)
    throw new Error("web/dist/main.js is missing: run `npm run build:web` (test:browser does)");
  const server = await startServer({ port: 0, host: "127.0.0.1", isolated });
  const profile = mkdtempSync(join(tmpdir(), "zerodl-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1000, height: 1150 },
    args: ["--headless", ...CHROMIUM_FLAGS, ...flags],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Clicks and waits give up after 2 minutes, not Playwright's 30 s: a hang guard on a loaded machine.
  page.setDefaultTimeout(120_000);
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => errors.push(`request failed: ${request.url()}`));
  await page.goto(server.url + query, { timeout: 300_000 });
  return { server, context, page, profile, errors };
}

export async function closeDemo(session: Session | undefined): Promise<void> {
  if (!session) return;
  await session.context.close();
  await session.server.close();
  rmSync(session.profile, { recursive: true, force: true });
}
