// The pretrained captioner (models/captioner.safetensors) captions the test canvases as its file
// records, and `zerodl caption` captions pictures of canvases. The shipped (peeky) model captions
// 95.30 % of the 10,000 test canvases exactly; the target is 95 % (docs/recurrent.md).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { loadCaptioner, TEST_CANVAS_SEED } from "../src/cli/caption.js";
import { DigitCanvases } from "../src/data/captions.js";
import { loadMnist } from "../src/data/mnist.js";
import { readModelInfo } from "../src/io/model-file.js";
import { evaluateCaptions } from "../src/train/captioner-trainer.js";
import { cli } from "./cli-helpers.js";

const MODEL = fileURLToPath(new URL("../models/captioner.safetensors", import.meta.url));
let test: DigitCanvases;
let dir: string;

beforeAll(async () => {
  await useFastBackend();
  test = new DigitCanvases((await loadMnist({ flatten: false })).test, 10000, TEST_CANVAS_SEED);
  dir = await mkdtemp(join(tmpdir(), "zerodl-caption-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Canvas i as a PNG file: black on white (as a person would draw it), so `caption` inverts it. */
async function canvasPng(i: number): Promise<string> {
  const image = test.images([i]);
  const png = new PNG({ width: test.width, height: test.height });
  for (let p = 0; p < test.width * test.height; p++) {
    const v = Math.round(255 * (1 - image.data[p]));
    png.data.set([v, v, v, 255], 4 * p);
  }
  const path = join(dir, `canvas-${i}.png`);
  await writeFile(path, PNG.sync.write(png));
  return path;
}

describe("models/captioner.safetensors", () => {
  it("captions ≥ 95 % of the 10,000 test canvases exactly (the target), as its file records", async () => {
    const model = await loadCaptioner(MODEL);
    expect(model.spec.peeky).toBe(true);
    const greedy = evaluateCaptions(model, test);
    expect(greedy.count).toBe(10000);
    expect(greedy.exact).toBeGreaterThanOrEqual(0.95);
    expect(greedy.perLength.map((l) => l.length)).toEqual([1, 2, 3, 4]);
    const results = (await readModelInfo(MODEL)).results as { greedy: { exact: number; count: number } };
    expect(results.greedy.count).toBe(10000);
    // Within 5 canvases of 10,000: another kernel's rounding may flip a close call.
    expect(Math.abs(greedy.exact - results.greedy.exact)).toBeLessThanOrEqual(0.0005);
  });
});

describe("zerodl train-captioner", () => {
  it("trains and saves a captioner; --from with larger sizes widens it, computing the same at first", async () => {
    const small = join(dir, "small.safetensors");
    const args = [
      "--train-canvases",
      "200",
      "--test-canvases",
      "100",
      "--eval-canvases",
      "100",
      "--epochs",
      "1",
    ];
    const r = await cli(
      "train-captioner",
      ...args,
      "--filters",
      "4,3",
      "--features",
      "8",
      "--hidden",
      "8",
      "--out",
      small,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/epoch 1\/1 .* test exact/);
    expect((await readModelInfo(small)).spec).toMatchObject({ hiddenSize: 8, wordvecSize: 32 });

    // An lr of 1e-12 keeps the weights (float32), so the widened model's captions are the small one's.
    const wide = join(dir, "wide.safetensors");
    const w = await cli(
      "train-captioner",
      ...args,
      "--from",
      small,
      "--hidden",
      "12",
      "--features",
      "10",
      "--lr",
      "1e-12",
      "--out",
      wide,
    );
    expect(w.code).toBe(0);
    expect(w.stderr).toMatch(/widened .* to filters 4,3, features 10, hidden 12, word vectors 32/);
    const [a, b] = [await loadCaptioner(small), await loadCaptioner(wide)];
    const images = test.images([0, 1, 2, 3, 4, 5]);
    expect(b.spec.hiddenSize).toBe(12);
    expect(b.caption(images, { beamWidth: 2 })).toEqual(a.caption(images, { beamWidth: 2 }));

    // --peeky makes it a peeky captioner, computing the same at first.
    const peeky = join(dir, "peeky.safetensors");
    const p = await cli(
      "train-captioner",
      ...args,
      "--from",
      wide,
      "--peeky",
      "--lr",
      "1e-12",
      "--out",
      peeky,
    );
    expect(p.code).toBe(0);
    expect(p.stderr).toMatch(/widened .* to filters 4,3, features 10, hidden 12, word vectors 32, peeky/);
    const c = await loadCaptioner(peeky);
    expect(c.spec.peeky).toBe(true);
    expect(c.caption(images, { beamWidth: 2 })).toEqual(b.caption(images, { beamWidth: 2 }));

    const bad = await cli(
      "train-captioner",
      ...args,
      "--from",
      wide,
      "--hidden",
      "8",
      "--out",
      join(dir, "x.safetensors"),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /--from .*wide.safetensors: Captioner.widenFrom: Affine W \(10, 12\) does not fit in \(10, 8\)/,
    );
    const filters = await cli(
      "train-captioner",
      ...args,
      "--filters",
      "4",
      "--out",
      join(dir, "x.safetensors"),
    );
    expect(filters.stderr).toMatch(/--filters: give the two convolutions' filters, e.g. 30,16, not 4/);
  });
});

describe("zerodl caption", () => {
  it("prints each picture's caption in words (beam search, pictures inverted when light)", async () => {
    const files = await Promise.all([0, 1, 2].map(canvasPng));
    const r = await cli("caption", MODEL, ...files);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n")).toEqual(files.map((f, i) => `${f}: ${test.caption(i)}`));
    expect(r.stderr).toMatch(/note: inverted/);
    const json = await cli("caption", MODEL, files[0], "--json", "--beam", "1");
    expect(JSON.parse(json.stdout)[0].caption).toBe(test.caption(0));
  });

  it("refuses a model that is not a captioner, and a missing picture", async () => {
    const file = await canvasPng(3);
    const simple = fileURLToPath(new URL("../models/simple-conv.safetensors", import.meta.url));
    const r = await cli("caption", simple, file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"simple-conv" model, not a captioner/);
    const missing = await cli("caption", MODEL, join(dir, "nope.png"));
    expect(missing.stderr).toMatch(/image .*nope.png not found/);
  });
});
