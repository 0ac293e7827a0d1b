/**
 * The playground's pure parts, in Node: chapter 6 settings become the library's networks (and bad
 * settings a clear error), and the experiments the page offers are the registry's own.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/rng.js";
import { BatchNormalization, Dropout, Tanh } from "../src/layers/index.js";
import { buildLab, checkConfig, defaultConfig, describeConfig } from "../web/src/playground/lab.js";
import { pageExperimentList } from "../web/src/playground/book-experiments.js";
import { experiments } from "../experiments/registry.js";

const layersOf = (model: unknown) => (model as { layers: readonly object[] }).layers;

describe("playground settings", () => {
  it("build MultiLayerNetExtend with the depth, width, activation, batch norm and dropout asked for", () => {
    const { model, optimizer } = buildLab(
      {
        ...defaultConfig,
        depth: 3,
        width: 20,
        activation: "tanh",
        batchNorm: true,
        dropout: 0.25,
        optimizer: "rmsprop",
        lr: 0.002,
      },
      new Rng(1),
    );
    expect(model.params.map((p) => `${p.name}:${p.value.shape.join("x")}`)).toEqual([
      "W1:784x20",
      "b1:20",
      "gamma1:20",
      "beta1:20",
      "W2:20x20",
      "b2:20",
      "gamma2:20",
      "beta2:20",
      "W3:20x20",
      "b3:20",
      "gamma3:20",
      "beta3:20",
      "W4:20x10",
      "b4:10",
    ]);
    const layers = layersOf(model);
    expect(layers.filter((l) => l instanceof BatchNormalization)).toHaveLength(3);
    expect(layers.filter((l) => l instanceof Tanh)).toHaveLength(3);
    expect(layers.filter((l) => l instanceof Dropout)).toHaveLength(3);
    expect(optimizer.constructor.name).toBe("RMSprop");
  });

  it("initialise with the std asked for, or Xavier's and He's √(1/n), √(2/n)", () => {
    const std = (init: "std" | "xavier" | "he", initStd = 0.05) => {
      const { model } = buildLab({ ...defaultConfig, init, initStd, width: 400 }, new Rng(3));
      const W1 = Array.from(model.params[0].value.data);
      const mean = W1.reduce((a, b) => a + b, 0) / W1.length;
      return Math.sqrt(W1.reduce((a, b) => a + (b - mean) ** 2, 0) / W1.length);
    };
    expect(std("std", 0.05)).toBeCloseTo(0.05, 3);
    expect(std("xavier")).toBeCloseTo(Math.sqrt(1 / 784), 3);
    expect(std("he")).toBeCloseTo(Math.sqrt(2 / 784), 3);
  });

  it("build SimpleConvNet with the hidden width asked for", () => {
    const { model } = buildLab({ ...defaultConfig, architecture: "simple-conv", width: 30 }, new Rng(1));
    expect(model.params.map((p) => p.value.shape)).toEqual([
      [30, 1, 5, 5],
      [30],
      [4320, 30],
      [30],
      [30, 10],
      [10],
    ]);
  });

  it("refuse settings out of range, naming each with its valid range", () => {
    expect(() => checkConfig({ ...defaultConfig, depth: 0, lr: -1, dropout: 1 })).toThrow(
      "training settings: depth must be an integer in [1, 8], got 0; lr must be in (0, 10], got -1; dropout must be in [0, 0.95], got 1",
    );
    expect(() => checkConfig({ ...defaultConfig, optimizer: "lbfgs" as never })).toThrow(
      'optimizer "lbfgs" is unknown; valid: sgd, momentum, nesterov, adagrad, rmsprop, adam',
    );
  });

  it("describe a run by what sets it apart", () => {
    expect(describeConfig({ ...defaultConfig, batchNorm: true, weightDecay: 0.1 })).toBe(
      "MLP 2×100 relu · SGD lr 0.1 · He · batch norm · λ 0.1 · 10,000 images · seed 1",
    );
  });

  it("offer in the page only experiments of the registry, in the book's order", () => {
    expect(pageExperimentList.every((e) => experiments.includes(e))).toBe(true);
    const order = pageExperimentList.map((e) => experiments.indexOf(e));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
