import { describe, expect, it } from "vitest";
import type { Dataset } from "../data/dataset.js";
import type { Mode } from "../layers/layer.js";
import type { Model } from "../models/model.js";
import { MultiLayerNetExtend } from "../models/multi-layer-net-extend.js";
import { TwoLayerNet } from "../models/two-layer-net.js";
import { NDArray, type Labels } from "../ndarray.js";
import { Adam } from "../optimizers/adam.js";
import { SGD } from "../optimizers/sgd.js";
import { Rng } from "../rng.js";
import { NonFiniteError, TrainingDivergedError } from "../errors.js";
import { Trainer, cosineSchedule, type TrainEvent, type TrainerOptions } from "./trainer.js";
import { accuracyAsync } from "./accuracy.js";

/** Three separable 2-D blobs around (±2, 0) and (0, 2), `n` samples each. */
function blobs(n: number, rng: Rng): Dataset {
  const centers = [
    [-2, 0],
    [2, 0],
    [0, 2],
  ];
  const x = NDArray.zeros([3 * n, 2]);
  const labels = new Int32Array(3 * n);
  for (let i = 0; i < 3 * n; i++) {
    const c = i % 3;
    x.data[2 * i] = centers[c][0] + 0.5 * rng.normal();
    x.data[2 * i + 1] = centers[c][1] + 0.5 * rng.normal();
    labels[i] = c;
  }
  return { x, labels };
}

/** Sample i has the single feature i, so a batch shows which samples it holds. */
function indexed(n: number): Dataset {
  const x = NDArray.zeros([n, 1]);
  for (let i = 0; i < n; i++) x.data[i] = i;
  return { x, labels: Int32Array.from({ length: n }, (_, i) => i % 2) };
}

/** Wraps a model to count calls, record accuracy sample sizes, and optionally return NaN. */
class SpyModel implements Model {
  lossCalls = 0;
  accuracySizes: number[] = [];
  constructor(
    readonly inner: Model,
    readonly nanAtCall = 0,
  ) {}
  get params() {
    return this.inner.params;
  }
  get spec() {
    return this.inner.spec;
  }
  predict(x: NDArray, mode?: Mode) {
    return this.inner.predict(x, mode);
  }
  loss(x: NDArray, t: Labels, mode?: Mode) {
    this.lossCalls++;
    const loss = this.inner.loss(x, t, mode);
    return this.lossCalls === this.nanAtCall ? NaN : loss;
  }
  backward() {
    this.inner.backward();
  }
  accuracy(x: NDArray, t: Labels, batchSize?: number) {
    this.accuracySizes.push(x.shape[0]);
    return this.inner.accuracy(x, t, batchSize);
  }
}

function tinyNet(inputSize = 1, seed = 0): TwoLayerNet {
  return new TwoLayerNet({ inputSize, hiddenSize: 4, outputSize: 2, weightInitStd: 0.1 }, new Rng(seed));
}

function trainer(overrides: Partial<TrainerOptions> = {}): Trainer {
  const data = indexed(10);
  return new Trainer({
    model: tinyNet(),
    optimizer: new SGD({ lr: 0.01 }),
    train: data,
    test: data,
    epochs: 2,
    batchSize: 4,
    rng: new Rng(1),
    ...overrides,
  });
}

const summary = (events: TrainEvent[]) =>
  events.map((e) =>
    e.type === "iteration" ? `it${e.iteration}/${e.iterations}@${e.epoch}` : `epoch${e.epoch}`,
  );

describe("Trainer", () => {
  it("scales the learning rate by the schedule before each step (cosine: from lr to near 0)", () => {
    const optimizer = new SGD({ lr: 0.01 });
    const run = trainer({ optimizer, lrSchedule: cosineSchedule });
    const seen: number[] = [];
    for (const e of run.steps()) if (e.type === "iteration") seen.push(optimizer.lr);
    // 2 epochs of ceil(10 / 4) = 3 batches: lr·½(1 + cos(π·i/6)), i = 0…5.
    const expected = [0, 1, 2, 3, 4, 5].map((i) => 0.01 * 0.5 * (1 + Math.cos((Math.PI * i) / 6)));
    expect(seen).toHaveLength(6);
    seen.forEach((lr, i) => expect(lr).toBeCloseTo(expected[i], 15));
    expect(() => trainer({ optimizer: { step() {} }, lrSchedule: cosineSchedule })).toThrow(
      /needs an optimizer with an lr/,
    );
  });

  it("yields an event per iteration and per epoch, the last batch of a pass smaller", () => {
    const batchSizes: number[] = [];
    const t = trainer({ augment: (x) => (batchSizes.push(x.shape[0]), x) });
    expect(summary([...t.steps()])).toEqual([
      "it1/6@1",
      "it2/6@1",
      "it3/6@1",
      "epoch1",
      "it4/6@2",
      "it5/6@2",
      "it6/6@2",
      "epoch2",
    ]);
    expect(batchSizes).toEqual([4, 4, 2, 4, 4, 2]);
  });

  it("shuffles: each epoch visits every sample once, in a new order", () => {
    const seen: number[][] = [[], []];
    let epoch = 0;
    const t = trainer({
      augment: (x) => {
        seen[Math.floor(epoch++ / 3)].push(...x.data);
        return x;
      },
    });
    t.run();
    for (const order of seen)
      expect([...order].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen[0]).not.toEqual(seen[1]);
  });

  it("samples with replacement as the book: ceil(N/batch) full batches per epoch", () => {
    const counts = new Array<number>(10).fill(0);
    const sizes: number[] = [];
    const t = trainer({
      sampling: "replacement",
      epochs: 3,
      augment: (x) => {
        sizes.push(x.shape[0]);
        for (const v of x.data) counts[v]++;
        return x;
      },
    });
    const events = [...t.steps()];
    expect(events.filter((e) => e.type === "iteration")).toHaveLength(9);
    expect(sizes).toEqual(Array(9).fill(4));
    // 36 draws from 10 samples: with replacement, some samples come up more often than others.
    expect(counts.reduce((a, b) => a + b)).toBe(36);
    expect(Math.max(...counts) - Math.min(...counts)).toBeGreaterThan(1);
  });

  it("stops after `iterations` when given, ending the cut-short epoch with its evaluation", () => {
    const t = trainer({ iterations: 5, epochs: undefined });
    expect(t.epochs).toBe(2);
    expect(summary([...t.steps()])).toEqual([
      "it1/5@1",
      "it2/5@1",
      "it3/5@1",
      "epoch1",
      "it4/5@2",
      "it5/5@2",
      "epoch2",
    ]);
  });

  it("logs the loss the training step computed: one loss() per iteration, no extra forward", () => {
    const spy = new SpyModel(tinyNet());
    const history = trainer({ model: spy, epochs: 3 }).run();
    expect(spy.lossCalls).toBe(9);
    expect(history.loss).toHaveLength(9);
    expect(history.trainAcc).toHaveLength(3);
    expect(history.testAcc).toHaveLength(3);
    expect(history.valAcc).toBeUndefined();
  });

  it("evaluates on the first evalSampleSize samples, and on everything at the last epoch", () => {
    const spy = new SpyModel(tinyNet());
    const data = indexed(10);
    trainer({ model: spy, epochs: 2, evalSampleSize: 3, validation: data }).run();
    expect(spy.accuracySizes).toEqual([3, 3, 3, 10, 10, 10]);
  });

  it("keeps the sample at the last epoch too when fullFinalEvaluation is false", () => {
    const spy = new SpyModel(tinyNet());
    const data = indexed(10);
    trainer({ model: spy, epochs: 2, evalSampleSize: 3, validation: data, fullFinalEvaluation: false }).run();
    expect(spy.accuracySizes).toEqual([3, 3, 3, 3, 3, 3]);
  });

  it("draws augmentation randomness apart from batch order: augmenting keeps the batches", () => {
    const batches = (noise: boolean) => {
      const seen: number[] = [];
      const t = trainer({
        augment: (x, rng) => {
          seen.push(...x.data);
          if (!noise) return x;
          const y = x.clone();
          for (let i = 0; i < y.size; i++) y.data[i] += 0.01 * rng.normal();
          return y;
        },
      });
      t.run();
      return seen;
    };
    expect(batches(true)).toEqual(batches(false));
  });

  it("reports validation accuracy per epoch", () => {
    const history = trainer({ validation: indexed(6) }).run();
    expect(history.valAcc).toHaveLength(2);
  });

  it("stops with an error naming the iteration and epoch when the loss is not finite", () => {
    const spy = new SpyModel(tinyNet(), 5);
    expect(() => trainer({ model: spy }).run()).toThrow(/loss is NaN at iteration 5 of 6 \(epoch 2\)/);
    // A learning rate far too large diverges for real.
    const rng = new Rng(3);
    const data = blobs(30, rng);
    const huge = new Trainer({
      model: new TwoLayerNet({ inputSize: 2, hiddenSize: 20, outputSize: 3, weightInitStd: 1 }, rng),
      optimizer: new SGD({ lr: 1e30 }),
      train: data,
      test: data,
      epochs: 50,
      batchSize: 10,
      rng,
    });
    expect(() => huge.run()).toThrow(
      /training diverged: loss is (NaN|Infinity) at iteration \d+ of 450 \(epoch \d+\)/,
    );
  });

  it("stops before the update when a gradient is not finite, naming the iteration and the layer", () => {
    // A backward that overflows in one weight's gradient at the 4th iteration (what an exploding
    // gradient looks like), with a finite loss.
    const net = tinyNet();
    let calls = 0;
    const model: Model = {
      params: net.params,
      spec: net.spec,
      predict: (x, mode) => net.predict(x, mode),
      loss: (x, t, mode) => net.loss(x, t, mode),
      accuracy: (x, t, batchSize) => net.accuracy(x, t, batchSize),
      describeParam: (name) => net.describeParam(name),
      backward() {
        net.backward();
        if (++calls === 4) net.params[2].grad!.data[3] = -Infinity; // W2
      },
    };
    let thrown: unknown;
    try {
      trainer({ model }).run();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TrainingDivergedError);
    expect((thrown as Error).message).toMatch(
      /^training diverged: the gradient of W2 \(layer 3 \(Affine\)\) holds -Infinity \(1 of 8 values non-finite\) at iteration 4 of 6 \(epoch 2\), with loss [\d.]+; the step was not taken/,
    );
    // The step was not taken: the weights stay finite.
    expect(net.params[2].value.data.every(Number.isFinite)).toBe(true);
  });

  it("checks the weights before evaluating an epoch (an update can overflow with finite gradients)", () => {
    // The epoch's last update (its 3rd) overflows a weight; no loss of the epoch sees it.
    const net = tinyNet();
    let steps = 0;
    const overflow = { step: () => void (++steps === 3 && (net.params[0].value.data[1] = Infinity)) };
    expect(() => trainer({ model: net, optimizer: overflow }).run()).toThrow(
      /^training diverged: at the end of epoch 1, the weights W1 \(layer 1 \(Affine\)\) hold non-finite values/,
    );
  });

  it("names the layer whose output first became non-finite when the loss is not finite", () => {
    // After one step with lr 1e30 the weights are huge but finite; the next forward overflows.
    const rng = new Rng(3);
    const data = blobs(30, rng);
    const run = new Trainer({
      model: new TwoLayerNet({ inputSize: 2, hiddenSize: 20, outputSize: 3, weightInitStd: 1 }, rng),
      optimizer: new SGD({ lr: 1e30 }),
      train: data,
      test: data,
      epochs: 50,
      batchSize: 10,
      rng,
    });
    expect(() => run.run()).toThrow(
      /training diverged: loss is (NaN|Infinity) at iteration \d+ of 450 \(epoch \d+\); (the first non-finite output is that of layer \d \(\w+\)|the weights [\w, ()]+ hold non-finite values)/,
    );
  });

  it("refuses data sets holding NaN or ±Infinity when it is made, naming the set and the sample", () => {
    const bad = indexed(10);
    bad.x.data[7] = NaN;
    expect(() => trainer({ train: bad })).toThrow(NonFiniteError);
    expect(() => trainer({ train: bad })).toThrow(
      /Trainer: the training set's inputs holds NaN \(sample 7 of 10, element 0;/,
    );
    expect(() => trainer({ test: bad })).toThrow(/the test set's inputs holds NaN/);
    expect(() => trainer({ validation: bad })).toThrow(/the validation set's inputs holds NaN/);
  });

  it("is reproducible from its seed", () => {
    const run = (seed: number) => trainer({ model: tinyNet(1, 7), rng: new Rng(seed), epochs: 3 }).run().loss;
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it("runAsync gives run's history; accuracyAsync gives accuracy", async () => {
    const make = () => trainer({ model: tinyNet(1, 7), rng: new Rng(5), epochs: 2, evalSampleSize: 10 });
    const history = make().run();
    expect(await make().runAsync()).toEqual(history);
    const rng = new Rng(3);
    const data = blobs(40, rng);
    const net = new TwoLayerNet({ inputSize: 2, hiddenSize: 5, outputSize: 3 }, rng);
    const want = net.accuracy(data.x, data.labels, 7);
    expect(want).toBeGreaterThan(0);
    expect(await accuracyAsync(net, data.x, data.labels, 7)).toBe(want);
  });

  it("rejects bad options by name", () => {
    expect(() => trainer({ batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => trainer({ epochs: undefined })).toThrow(/epochs must be a positive integer, got undefined/);
    expect(() => trainer({ sampling: "bootstrap" as "shuffle" })).toThrow(
      /unknown sampling "bootstrap"; valid: shuffle, replacement/,
    );
  });

  it("drives the loss down on a small separable problem", () => {
    const rng = new Rng(4);
    const train = blobs(100, rng);
    const test = blobs(30, rng);
    const model = new TwoLayerNet({ inputSize: 2, hiddenSize: 10, outputSize: 3 }, rng);
    const history = new Trainer({
      model,
      optimizer: new SGD({ lr: 0.1 }),
      train,
      test,
      epochs: 10,
      batchSize: 20,
      rng,
    }).run();
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const first = mean(history.loss.slice(0, 15));
    const last = mean(history.loss.slice(-15));
    expect(last).toBeLessThan(0.3 * first);
    expect(history.testAcc.at(-1)).toBeGreaterThan(0.9);
  });
});

describe("Trainer resume", () => {
  // Dropout (the model's own generator), Adam (optimizer state), augmentation (the trainer's second
  // generator) and a last batch smaller than the others: everything a resumed run must restore.
  const setup = (resume?: TrainerOptions["resume"]) => {
    const data = blobs(7, new Rng(5)); // 21 samples: batches of 4, 4, 4, 4, 4, 1
    const model = new MultiLayerNetExtend(
      {
        inputSize: 2,
        hiddenSizeList: [6, 5],
        outputSize: 3,
        useBatchnorm: true,
        useDropout: true,
        dropoutRatio: 0.2,
      },
      new Rng(3),
    );
    const optimizer = new Adam({ lr: 0.01 });
    const t = new Trainer({
      model,
      optimizer,
      train: data,
      test: data,
      epochs: 3,
      batchSize: 4,
      rng: new Rng(11),
      augment: (x, rng) => {
        const y = x.clone();
        for (let i = 0; i < y.size; i++) y.data[i] += 0.1 * rng.normal();
        return y;
      },
      resume,
    });
    return { model, optimizer, trainer: t };
  };
  const losses = (events: TrainEvent[]) => events.map((e) => `${e.type}@${e.epoch}:${e.loss}`);

  for (const stopAfter of [3, 6, 8]) {
    it(`stopped after ${stopAfter} iterations and resumed, the run is the uninterrupted one exactly`, () => {
      const straight = setup();
      const whole = [...straight.trainer.steps()];

      const first = setup();
      const head: TrainEvent[] = [];
      for (const e of first.trainer.steps()) {
        head.push(e);
        // Stop after an iteration, or (8 = 6 + 2 of the second epoch; 6 ends the first) at an epoch's end.
        if (e.type === "iteration" && e.iteration === stopAfter && stopAfter !== 6) break;
        if (e.type === "epoch" && stopAfter === 6) break;
      }
      const position = JSON.parse(JSON.stringify(first.trainer.position()));
      const saved = first.optimizer.state(first.model.params);
      const randomState = first.model.randomState();
      const weights = first.model.params.map((p) => p.value.data.slice());

      const second = setup(position);
      second.model.params.forEach((p, i) => p.value.data.set(weights[i]));
      // Batch norm's running statistics are state too; copy them with the layers.
      first.model.layers.forEach((layer, i) => {
        const from = layer as { runningMean?: NDArray; runningVar?: NDArray };
        const to = second.model.layers[i] as typeof from;
        if (from.runningMean) to.runningMean = from.runningMean.clone();
        if (from.runningVar) to.runningVar = from.runningVar.clone();
      });
      second.optimizer.setState(second.model.params, saved);
      second.model.setRandomState(randomState);
      const tail = [...second.trainer.steps()];

      expect(losses([...head, ...tail])).toEqual(losses(whole));
      second.model.params.forEach((p, i) =>
        expect(Array.from(p.value.data)).toEqual(Array.from(straight.model.params[i].value.data)),
      );
    });
  }

  it("rejects a position beyond the run", () => {
    const position = { ...setup().trainer.position(), iteration: 999 };
    expect(() => setup(position)).toThrow(/beyond this run \(18 iterations, 6 per epoch\)/);
  });
});

describe("Trainer maxGradNorm", () => {
  it("clips each step's gradients to the global norm before the update", () => {
    const rng = new Rng(11);
    const train = blobs(10, rng);
    const run = (maxGradNorm?: number) => {
      const model = new TwoLayerNet({ inputSize: 2, hiddenSize: 4, outputSize: 3 }, new Rng(12));
      const before = model.params.map((p) => p.value.clone());
      new Trainer({
        model,
        optimizer: new SGD({ lr: 1 }),
        train,
        test: train,
        iterations: 1,
        batchSize: 30,
        rng: new Rng(13),
        maxGradNorm,
      }).run();
      // With SGD at lr 1 the step is the (clipped) gradient itself.
      let sq = 0;
      model.params.forEach((p, i) => {
        for (let k = 0; k < p.value.size; k++) sq += (p.value.data[k] - before[i].data[k]) ** 2;
      });
      return Math.sqrt(sq);
    };
    const free = run();
    expect(free).toBeGreaterThan(0.01);
    expect(run(0.01)).toBeCloseTo(0.01, 5);
    expect(run(free * 2)).toBeCloseTo(free, 6);
  });
});
