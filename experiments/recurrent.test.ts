// The recurrent experiments in their quick forms: the language model learns order; a tiny captioner
// learns to caption a toy set.
import { beforeAll, describe, expect, it } from "vitest";
import { useFastBackend } from "../src/backend/index.js";
import { renderSvg } from "../src/plot/render.js";
import type { RunOptions } from "./experiment.js";
import { captioning } from "./captioning.js";
import { languageModel } from "./language-model.js";

const quick: RunOptions = { quick: true, seed: 0, log: () => {} };

beforeAll(async () => {
  await useFastBackend({ threads: 1 });
});

describe("recurrent experiments (quick)", () => {
  it("language model: held-out perplexity falls each epoch and ends below the unigram model's", async () => {
    const out = await languageModel.run(quick);
    const d = out.data as {
      unigramPerplexity: number;
      epochs: { train: number; test: number }[];
      samples: { text: string }[];
    };
    const test = d.epochs.map((e) => e.test);
    expect(d.unigramPerplexity).toBeGreaterThan(15);
    for (let i = 1; i < test.length; i++) expect(test[i]).toBeLessThan(test[i - 1]);
    expect(test[test.length - 1]).toBeLessThan(0.8 * d.unigramPerplexity);
    expect(d.samples[0].text.length).toBeGreaterThan(400);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });

  it("captioning: a tiny captioner learns to caption canvases of 1–2 test digits", async () => {
    const out = await captioning.run(quick);
    const d = out.data as {
      training: { loss: number; exact: number }[];
      greedy: { exact: number; perLength: { length: number; exact: number }[] };
      beam: { exact: number };
    };
    expect(d.training[0].loss).toBeGreaterThan(d.training.at(-1)!.loss);
    expect(d.greedy.exact).toBeGreaterThan(0.4); // chance: about 0.06
    expect(d.beam.exact).toBeGreaterThan(0.4);
    expect(d.greedy.perLength.map((l) => l.length)).toEqual([1, 2]);
    expect(await renderSvg(out.figures[0].spec)).toContain("<svg");
  });
});
