import { describe, expect, it } from "vitest";
import { Captioner, mnistCaptionerSpec } from "../models/captioner.js";
import { NDArray } from "../ndarray.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import { Rng } from "../rng.js";
import { CaptionerTrainer } from "./captioner-trainer.js";

/** A tiny captioner and 20 random "digits" with labels. */
function setup() {
  const rng = new Rng(1);
  const model = new Captioner(
    mnistCaptionerSpec({ maxDigits: 2, filters: [2, 2], features: 4, wordvecSize: 3, hiddenSize: 4 }),
    rng,
  );
  const x = NDArray.zeros([20, 1, 28, 28]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.uniform();
  const labels = Int32Array.from({ length: 20 }, (_, i) => i % 10);
  return { model, trainDigits: { x, labels }, canvas: { maxDigits: 2 } };
}

/** An optimizer that records the lr of every step and changes nothing. */
function recorder(lr: number): Optimizer & { lrs: number[] } {
  return {
    lr,
    lrs: [],
    step() {
      this.lrs.push(this.lr!);
    },
  };
}

describe("CaptionerTrainer", () => {
  it("decays the learning rate to lrEnd along a half cosine, first step at lr, last at lrEnd", () => {
    const optimizer = recorder(0.01);
    const trainer = new CaptionerTrainer({
      ...setup(),
      optimizer,
      trainCanvases: 50,
      epochs: 2,
      batchSize: 10,
      seed: 1,
      lrEnd: 0.001,
    });
    for (const _ of trainer.steps());
    const lrs = optimizer.lrs;
    expect(lrs).toHaveLength(10);
    expect(lrs[0]).toBeCloseTo(0.01, 12);
    expect(lrs[9]).toBeCloseTo(0.001, 12);
    // Step k of 10: lrEnd + (lr − lrEnd)·(1 + cos(π·k/9))/2.
    lrs.forEach((v, k) => expect(v).toBeCloseTo(0.001 + 0.009 * 0.5 * (1 + Math.cos((Math.PI * k) / 9)), 12));
  });

  it("keeps the learning rate without lrEnd, and names a bad lrEnd", () => {
    const optimizer = recorder(0.01);
    const options = { ...setup(), optimizer, trainCanvases: 20, epochs: 1, batchSize: 10, seed: 1 };
    for (const _ of new CaptionerTrainer(options).steps());
    expect(optimizer.lrs).toEqual([0.01, 0.01]);
    expect(() => new CaptionerTrainer({ ...options, lrEnd: -1 })).toThrow(
      /lrEnd must be a number ≥ 0, got -1/,
    );
    expect(() => new CaptionerTrainer({ ...options, optimizer: { step() {} }, lrEnd: 0.001 })).toThrow(
      /lrEnd needs an optimizer with an lr/,
    );
  });
});
