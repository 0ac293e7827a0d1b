// Chapter 8's experiments in their quick forms: the book's conclusions, not exact numbers.
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import type { RunOptions } from "./experiment.js";
import { resnetSkips } from "./resnet-skips.js";
import { transferLearning } from "./transfer-learning.js";
import { fcnDetection } from "./fcn-detection.js";

const quick: RunOptions = { quick: true, seed: 0, log: () => {} };

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("chapter 8 experiments (quick)", () => {
  it("resnet-skips: the deep network with skips learns faster than the same depth without", async () => {
    const out = await resnetSkips.run(quick);
    const runs = (out.data as { runs: { name: string; tailMean: number; gradients: { rms: number }[] }[] })
      .runs;
    const [residual, plain] = runs;
    expect(residual.tailMean).toBeLessThan(0.9 * plain.tailMean);
    expect(residual.gradients.length).toBe(plain.gradients.length);
    for (const f of out.figures) expect(await renderSvg(f.spec)).toContain("<svg");
  });

  // With the shipped models/resnet.safetensors as its source (without it the quick form would first
  // train a source ResNet: minutes on a loaded machine).
  it("transfer-learning: fine-tuning the MNIST ResNet beats training from scratch on 100 Fashion-MNIST images", async () => {
    const out = await transferLearning.run(quick);
    const { source, table } = out.data as {
      source: string;
      table: { size: number; scratch: { mean: number }; fineTuned: { mean: number } }[];
    };
    expect(source).toBe("pretrained models/resnet.safetensors");
    expect(table).toHaveLength(1);
    expect(table[0].fineTuned.mean).toBeGreaterThan(table[0].scratch.mean + 0.03);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });

  it("fcn-detection: the FCN finds most digits on canvases, and one pass beats classifying each window", async () => {
    const out = await fcnDetection.run(quick);
    const d = out.data as { precision: number; recall: number; speed: { fcnMs: number; windowsMs: number } };
    expect(d.precision).toBeGreaterThan(0.6);
    expect(d.recall).toBeGreaterThan(0.5);
    expect(d.speed.fcnMs).toBeLessThan(d.speed.windowsMs);
    for (const f of out.figures) expect(await renderSvg(f.spec)).toContain("<svg");
  });
});
