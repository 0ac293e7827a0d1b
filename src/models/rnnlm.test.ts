import { describe, expect, it } from "vitest";
import { NDArray } from "../ndarray.js";
import { Adam } from "../optimizers/adam.js";
import { Rng } from "../rng.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { RnnlmTrainer } from "../train/rnnlm-trainer.js";
import { consecutiveBatches, RnnLm } from "./rnnlm.js";

describe("consecutiveBatches (the sequel's RnnlmTrainer.get_batch)", () => {
  it("reads batchSize streams from even offsets, each batch continuing where the last stopped", () => {
    const corpus = Int32Array.from({ length: 21 }, (_, i) => i);
    const b = consecutiveBatches(corpus, 2, 3); // 20 (x, t) pairs: streams start at 0 and 10
    expect(b.iterations).toBe(3);
    const first = b.batch(0);
    expect(Array.from(first.xs.data)).toEqual([0, 1, 2, 10, 11, 12]);
    expect(Array.from(first.ts)).toEqual([1, 2, 3, 11, 12, 13]);
    expect(Array.from(b.batch(1).xs.data)).toEqual([3, 4, 5, 13, 14, 15]);
  });
});

describe("RnnLm", () => {
  it("is gradient-checked end to end (two LSTM layers, every parameter)", () => {
    const rng = new Rng(1);
    const model = new RnnLm(
      { kind: "rnnlm", vocabSize: 5, wordvecSize: 3, hiddenSize: 4, layers: 2 },
      rng,
      "float64",
    );
    // The sequel's embedding init (std 0.01) makes tiny gradients; larger weights check more.
    for (const p of model.params)
      for (let i = 0; i < p.value.size; i++) p.value.data[i] += 0.3 * rng.normal();
    const xs = NDArray.from([0, 3, 1, 4, 2, 2, 0, 1], [2, 4], "float64");
    const ts = Int32Array.from([3, 1, 4, 0, 2, 0, 1, 3]);
    const loss = () => {
      model.resetState();
      return model.loss(xs, ts);
    };
    loss();
    model.backward();
    const reports = checkGradients(
      loss,
      model.params.map((p) => ({ name: p.name, value: p.value, grad: p.grad && p.grad.clone() })),
    );
    expect(reports.map((r) => r.name)).toEqual(["W1", "Wx1", "Wh1", "b1", "Wx2", "Wh2", "b2", "W2", "b3"]);
  });

  it("learns a periodic text: perplexity falls to about 1 and greedy generation continues it", () => {
    const text = Int32Array.from({ length: 600 }, (_, i) => [0, 1, 2, 3, 2, 1][i % 6]);
    const model = new RnnLm({ kind: "rnnlm", vocabSize: 4, wordvecSize: 8, hiddenSize: 16 }, new Rng(2));
    const before = model.perplexity(text, 4, 10);
    expect(before).toBeGreaterThan(3); // about 4: uniform over 4 tokens
    const history = new RnnlmTrainer({
      model,
      optimizer: new Adam({ lr: 0.02 }),
      corpus: text,
      test: text,
      epochs: 8,
      batchSize: 4,
      timeSize: 10,
      maxGradNorm: 5,
    }).run();
    expect(history.trainPerplexity[0]).toBeGreaterThan(history.trainPerplexity[7]);
    expect(history.testPerplexity[7]).toBeLessThan(1.2);
    // 0 1 2 3 2 1 repeats: after "1 2 3" comes "2 1 0 1 2 3 …"
    expect(model.generate([1, 2, 3], 7, new Rng(3), { temperature: 0 })).toEqual([2, 1, 0, 1, 2, 3, 2]);
  });

  it("rejects a spec with a bad size or an unknown option", () => {
    const rng = new Rng(4);
    expect(() => new RnnLm({ kind: "rnnlm", vocabSize: 0, wordvecSize: 2, hiddenSize: 2 }, rng)).toThrow(
      /vocabSize must be a positive integer, got 0/,
    );
    expect(
      () => new RnnLm({ kind: "rnnlm", vocabSize: 3, wordvecSize: 2, hiddenSize: 2, depth: 2 }, rng),
    ).toThrow(/no option "depth"; valid: kind, vocabSize/);
  });
});
