/**
 * The playground's pure parts, in Node: chapter 6 settings become the library's networks (and bad
 * settings a clear error), and the experiments the page offers are the registry's own.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/rng.js";
import { BatchNormalization, Dropout, Tanh } from "../src/layers/index.js";
import { NDArray } from "../src/ndarray.js";
import { ResNet, SimpleConvNet } from "../src/models/index.js";
import { buildLab, checkConfig, defaultConfig, describeConfig } from "../web/src/playground/lab.js";
import { activationPanels, hasLayers, layerOutputs } from "../web/src/playground/inspect.js";
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

  it("build chapter 8's ResNet with the blocks per stage and first-stage channels asked for", () => {
    const config = {
      ...defaultConfig,
      architecture: "resnet" as const,
      depth: 1,
      width: 8,
      weightDecay: 0.01,
    };
    const { model } = buildLab(config, new Rng(1));
    const shapes = Object.fromEntries(model.params.map((p) => [p.name, p.value.shape.join("x")]));
    // Stem 8 channels; stages of one block each at 8, 16, 32 channels; projections where the size halves.
    expect(shapes["stem.W"]).toBe("8x1x3x3");
    expect(shapes["stage1.block1.conv2.W"]).toBe("8x8x3x3");
    expect(shapes["stage2.block1.conv1.W"]).toBe("16x8x3x3");
    expect(shapes["stage3.block1.proj.W"]).toBe("32x16x1x1");
    expect(shapes["fc.W"]).toBe("32x10");
    expect(model.params.filter((p) => p.value.shape.length === 4)).toHaveLength(1 + 3 * 2 + 2);
    expect(model).toBeInstanceOf(ResNet);
    expect((model as ResNet).weightDecayLambda).toBe(0.01);
    expect(
      describeConfig({ ...config, depth: 2, width: 16, optimizer: "adam", lr: 0.001, weightDecay: 0 }),
    ).toBe("ResNet-14 16/32/64 channels · Adam lr 0.001 · 10,000 images · seed 1");
    expect(() => checkConfig({ ...config, width: 65 })).toThrow(
      "width must be an integer in [1, 64], got 65",
    );
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

describe("playground layer views", () => {
  const x = (n: number, seed: number) => {
    const values = new Float32Array(n * 784);
    new Rng(seed).fillNormal(values);
    return NDArray.from(values, [n, 1, 28, 28]);
  };

  it("number a chain's layers in order, the last output being the prediction", async () => {
    const model = new SimpleConvNet({ inputShape: [1, 28, 28] }, new Rng(2));
    const input = x(2, 5);
    const outputs = (await layerOutputs(model, input))!;
    expect(outputs.map((o) => o.name).slice(0, 3)).toEqual(["1 Convolution", "2 Relu", "3 Pooling"]);
    expect(Array.from(outputs.at(-1)!.data)).toEqual(Array.from(model.predict(input).data));
  });

  it("walk a ResNet's graph: an Add's output is the sum of its two inputs, the last is the prediction", async () => {
    const { model } = buildLab({ ...defaultConfig, architecture: "resnet", depth: 1, width: 4 }, new Rng(3));
    expect(hasLayers(model)).toBe(true);
    const input = x(3, 6);
    const outputs = (await layerOutputs(model, input))!;
    const byName = new Map(outputs.map((o) => [o.name, o]));
    const add = byName.get("stage2.block1.add")!;
    const [a, b] = [byName.get("stage2.block1.bn2")!, byName.get("stage2.block1.proj.bn")!];
    expect(add.shape).toEqual([3, 8, 14, 14]);
    const sum = a.data.map((v, i) => v + b.data[i]);
    expect(Math.max(...add.data.map((v, i) => Math.abs(v - sum[i])))).toBeLessThan(1e-5);
    expect(outputs.at(-1)!.name).toBe("fc");
    const predicted = model.predict(input).data;
    expect(Math.max(...outputs.at(-1)!.data.map((v, i) => Math.abs(v - predicted[i])))).toBeLessThan(1e-5);
  });

  it("stop at the next layer once the page no longer wants them, freeing the queue", async () => {
    const model = new SimpleConvNet({ inputShape: [1, 28, 28] }, new Rng(2));
    const input = x(2, 5);
    let asked = 0;
    // Wanted for the first two layers only: the walk stops before the third.
    expect(await layerOutputs(model, input, () => ++asked <= 3)).toBeNull();
    expect(asked).toBe(4); // once on starting in the queue, then before layers 1, 2 and 3
    expect(await layerOutputs(model, input, () => false)).toBeNull();
    expect(await activationPanels(model, input, () => false)).toBeNull();
    // Work queued behind a dropped walk runs.
    expect((await layerOutputs(model, input, () => true))!.length).toBe(model.nodes.length);
  });
});
