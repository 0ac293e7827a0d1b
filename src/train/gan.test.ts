import { describe, expect, it } from "vitest";
import { Affine } from "../layers/affine.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { Convolution } from "../layers/convolution.js";
import { Deconvolution } from "../layers/deconvolution.js";
import { Flatten } from "../layers/flatten.js";
import type { Layer, Mode, Param } from "../layers/layer.js";
import { LeakyRelu } from "../layers/leaky-relu.js";
import { Relu } from "../layers/relu.js";
import { Reshape } from "../layers/reshape.js";
import { SigmoidWithLoss } from "../layers/sigmoid-with-loss.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { Tanh } from "../layers/tanh.js";
import { NDArray, type DType } from "../ndarray.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import { Rng } from "../rng.js";
import { checkGradients } from "../testing/layer-gradcheck.js";
import { numberedParams } from "../models/sequential.js";
import { Adam } from "../optimizers/adam.js";
import {
  GanTrainer,
  latentCodes,
  sampleLatent,
  type GanEvent,
  type GanNetwork,
  type GanPosition,
  type GanTrainerOptions,
} from "./gan.js";
import { WeightAverage } from "./weight-average.js";

/** A chain of layers as a GanNetwork, its params named W1, b1, … (as an optimizer's saved state needs). */
function chain(layers: Layer[]): GanNetwork & { layers: Layer[] } {
  return {
    layers,
    params: numberedParams(layers),
    forward: (x: NDArray, mode: Mode) => layers.reduce((y, l) => l.forward(y, mode), x),
    backward: (dout: NDArray) => layers.reduceRight((d, l) => l.backward(d), dout),
  };
}

function normal(shape: number[], std: number, rng: Rng, dtype: DType): NDArray {
  const a = NDArray.zeros(shape, dtype);
  rng.fillNormal(a.data, std);
  return a;
}

/**
 * A tiny DCGAN on 8×8 images: z (5) → 4·2·2 → deconv → 2×4×4 → deconv → 1×8×8 → tanh, and back;
 * with `categories` K, a K-way code follows z and the discriminator ends in 1 + K logits.
 */
function tinyGan(rng: Rng, dtype: DType, categories = 0) {
  const zeros = (n: number) => NDArray.zeros([n], dtype);
  const bn = (c: number) => new BatchNormalization(NDArray.full([c], 1, dtype), zeros(c));
  const generator = chain([
    new Affine(normal([5 + categories, 16], 0.5, rng, dtype), zeros(16)),
    new Reshape([4, 2, 2]),
    bn(4),
    new Relu(),
    new Deconvolution(normal([4, 2, 4, 4], 0.3, rng, dtype), zeros(2), { stride: 2, pad: 1 }),
    bn(2),
    new Relu(),
    new Deconvolution(normal([2, 1, 4, 4], 0.3, rng, dtype), zeros(1), { stride: 2, pad: 1 }),
    new Tanh(),
  ]);
  const discriminator = chain([
    new Convolution(normal([3, 1, 4, 4], 0.3, rng, dtype), zeros(3), { stride: 2, pad: 1 }),
    new LeakyRelu({ alpha: 0.2 }),
    new Convolution(normal([4, 3, 4, 4], 0.3, rng, dtype), zeros(4), { stride: 2, pad: 1 }),
    bn(4),
    new LeakyRelu({ alpha: 0.2 }),
    new Flatten(),
    new Affine(normal([16, 1 + categories], 0.3, rng, dtype), zeros(1 + categories)),
  ]);
  return { generator, discriminator };
}

/** Images in [−1, 1]: a bright square on a dark background, shifted per image. */
function squares(n: number, dtype: DType): NDArray {
  const x = NDArray.full([n, 1, 8, 8], -1, dtype);
  for (let i = 0; i < n; i++) {
    const o = i % 4;
    for (let y = o; y < o + 4; y++) for (let xx = o; xx < o + 4; xx++) x.set(1, i, 0, y, xx);
  }
  return x;
}

/** An optimizer that keeps a copy of each step's gradients and changes nothing. */
class Recorder implements Optimizer {
  grads: NDArray[] = [];
  step(params: readonly Param[]): void {
    this.grads = params.map((p) => p.grad!.clone());
  }
}

/**
 * One iteration of a tiny float64 GAN on N squares (batch = the whole data set), its optimizers
 * recording the gradients instead of stepping: the event, the recorders, and the latent vectors
 * and batch order the trainer drew (its rng's second split draws the latent vectors, the first
 * the batch order).
 */
function recordedStep(
  options: { netSeed: number; seed: number; categories?: number } & Partial<GanTrainerOptions>,
) {
  const { netSeed, seed, categories = 0, ...extra } = options;
  const N = 6;
  const { generator, discriminator } = tinyGan(new Rng(netSeed), "float64", categories);
  const data = squares(N, "float64");
  const gOpt = new Recorder();
  const dOpt = new Recorder();
  const trainer = new GanTrainer({
    generator,
    discriminator,
    data,
    latentSize: 5 + categories,
    categories,
    batchSize: N,
    iterations: 1,
    rng: new Rng(seed),
    generatorOptimizer: gOpt,
    discriminatorOptimizer: dOpt,
    ...extra,
  });
  const [event] = trainer.steps();
  if (event.type !== "iteration") throw new Error("an iteration event");
  const rng = new Rng(seed);
  const order = rng.split().permutation(N);
  const z = sampleLatent(N, 5 + categories, rng.split(), "float64", categories);
  return { N, G: generator, D: discriminator, data, order, z, event, gOpt, dOpt };
}

/**
 * Central differences of `dLoss` and `gLoss` against the gradients each network's optimizer was
 * given, after checking that D's first pre-activations (on real and generated images) are all
 * further than 1e-3 from LeakyReLU's kink (the differences step h = 1e-4 either side).
 */
function checkStepGradients(
  step: ReturnType<typeof recordedStep>,
  dLoss: () => number,
  gLoss: () => number,
): void {
  const { G, D, data, z, gOpt, dOpt } = step;
  const conv1 = new Convolution(D.params[0].value, D.params[1].value, { stride: 2, pad: 1 });
  for (const input of [data, G.forward(z, "train")]) {
    const pre = conv1.forward(input, "train").data;
    expect(Math.min(...pre.map(Math.abs))).toBeGreaterThan(1e-3);
  }
  const targets = (params: readonly Param[], grads: NDArray[], net: string) =>
    params.map((p, i) => ({ name: `${net}${i}.${p.name}`, value: p.value, grad: grads[i] }));
  checkGradients(dLoss, targets(D.params, dOpt.grads, "D"));
  checkGradients(gLoss, targets(G.params, gOpt.grads, "G"));
}

describe("GanTrainer", () => {
  it("steps each network on the gradient of its own loss (checked by central differences)", () => {
    const step = recordedStep({ netSeed: 1, seed: 4, realLabel: 0.9 });
    const { N, G, D, data, z, event } = step;
    const bce = new SigmoidWithLoss();
    const fill = (value: number) => NDArray.full([N, 1], value, "float64");
    // D's loss on the whole (permuted) data set and on G(z); neither depends on the order.
    const dLoss = () => {
      const fake = G.forward(z, "train");
      return (
        bce.forward(D.forward(data, "train"), fill(0.9)) + bce.forward(D.forward(fake, "train"), fill(0))
      );
    };
    const gLoss = () => bce.forward(D.forward(G.forward(z, "train"), "train"), fill(1));
    expect(event.dLoss).toBeCloseTo(dLoss(), 12);
    checkStepGradients(step, dLoss, gLoss);
    expect(event.gLoss).toBeCloseTo(gLoss(), 12);
  });

  it.each([
    ["an InfoGAN code", false],
    ["a class-conditional (AC-GAN) code", true],
  ])(
    "with %s, adds λ · the code's cross-entropy to the losses (checked by central differences)",
    (_, conditional) => {
      const K = 3;
      const infoWeight = 0.7;
      const labels = Int32Array.from({ length: 6 }, (_, i) => i % K);
      const step = recordedStep({
        netSeed: 6,
        seed: 4,
        categories: K,
        infoWeight,
        ...(conditional ? { labels } : {}),
      });
      const { N, G, D, data, order, z, event } = step;
      const codes = latentCodes(z, K);
      const bce = new SigmoidWithLoss();
      const ce = new SoftmaxWithLoss();
      const fill = (value: number) => NDArray.full([N, 1], value, "float64");
      /** D's output split into the logits (N, 1) and the code logits (N, K), by hand. */
      const split = (out: NDArray) => {
        expect(out.shape).toEqual([N, 1 + K]);
        const rows = Array.from({ length: N }, (_, i) =>
          Array.from(out.data.subarray(i * (K + 1), (i + 1) * (K + 1))),
        );
        const matrix = (values: number[][]) => NDArray.from(values, undefined, "float64");
        return { logit: matrix(rows.map((r) => [r[0]])), code: matrix(rows.map((r) => r.slice(1))) };
      };
      const info = (out: NDArray, classes = codes) => ce.forward(split(out).code, classes);
      // The losses are sums over images, so only the labels need the batch order.
      const batchLabels = Int32Array.from(order, (i) => labels[i]);
      const dLoss = () => {
        const onFake = D.forward(G.forward(z, "train"), "train");
        const fakeLoss = bce.forward(split(onFake).logit, fill(0)) + infoWeight * info(onFake);
        const onReal = D.forward(data.takeRows(order), "train");
        const realLoss = bce.forward(split(onReal).logit, fill(1));
        return realLoss + (conditional ? infoWeight * info(onReal, batchLabels) : 0) + fakeLoss;
      };
      const gLoss = () => {
        const out = D.forward(G.forward(z, "train"), "train");
        return bce.forward(split(out).logit, fill(1)) + infoWeight * info(out);
      };
      checkStepGradients(step, dLoss, gLoss);
      // The events report the adversarial losses and, apart, the code's cross-entropy in G's step.
      const out = D.forward(G.forward(z, "train"), "train");
      expect(event.gLoss).toBeCloseTo(bce.forward(split(out).logit, fill(1)), 12);
      expect(event.infoLoss).toBeCloseTo(info(out), 12);
    },
  );

  it("an InfoGAN discriminator learns to read the code back from the generated images", () => {
    const K = 4;
    const { generator, discriminator } = tinyGan(new Rng(2), "float32", K);
    const history = new GanTrainer({
      generator,
      discriminator,
      data: squares(64, "float32"),
      latentSize: 5 + K,
      categories: K,
      batchSize: 16,
      epochs: 40,
      generatorOptimizer: new Adam({ lr: 0.01, beta1: 0.5 }),
      discriminatorOptimizer: new Adam({ lr: 0.01, beta1: 0.5 }),
      rng: new Rng(7),
    }).run();
    const info = history.infoLoss!;
    expect(info).toHaveLength(160);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    // A code no one can read costs ln 4 = 1.386 nats; by the end it is read nearly every time.
    expect(mean(info.slice(0, 10))).toBeGreaterThan(1.2);
    expect(mean(info.slice(-20))).toBeLessThan(0.2);
  });

  it("draws latent vectors with a one-hot code after the noise, uniform or fixed", () => {
    const K = 10;
    const z = sampleLatent(5000, 16 + K, new Rng(3), "float32", K);
    const codes = latentCodes(z, K);
    const counts = new Array<number>(K).fill(0);
    for (let i = 0; i < 5000; i++) {
      const code = z.data.subarray(i * 26 + 16, (i + 1) * 26);
      expect(Array.from(code).sort()).toEqual([...new Array<number>(K - 1).fill(0), 1]);
      expect(code[codes[i]]).toBe(1);
      counts[codes[i]]++;
    }
    // 500 expected of each: ± 5 standard deviations (21.2) is a test that cannot flake but still fails on a bias.
    for (const c of counts) expect(Math.abs(c - 500)).toBeLessThan(106);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < 5000; i++)
      for (let j = 0; j < 16; j++) {
        const v = z.data[i * 26 + j];
        sum += v;
        sumSq += v * v;
      }
    expect(Math.abs(sum / 80000)).toBeLessThan(0.02);
    expect(sumSq / 80000).toBeCloseTo(1, 1);
    const fixed = sampleLatent(20, 8 + 3, new Rng(3), "float64", 3, 2);
    expect(Array.from(latentCodes(fixed, 3))).toEqual(new Array<number>(20).fill(2));
    expect(() => sampleLatent(2, 11, new Rng(3), "float32", 3, 3)).toThrow(
      /code must be an integer in 0–2, got 3/,
    );
    // No code: every entry is noise, drawn as before codes existed.
    expect(sampleLatent(4, 6, new Rng(9)).data).toEqual(sampleLatent(4, 6, new Rng(9), "float32", 0).data);
    expect(() => sampleLatent(4, 6, new Rng(9), "float32", 0, 1)).toThrow(/no categorical code to fix/);
  });

  it("trains: seeded runs repeat, losses move, images keep the data's shape and tanh's range", () => {
    const run = () => {
      const { generator, discriminator } = tinyGan(new Rng(2), "float32");
      const trainer = new GanTrainer({
        generator,
        discriminator,
        data: squares(64, "float32"),
        latentSize: 5,
        batchSize: 16,
        epochs: 5,
        rng: new Rng(7),
      });
      const events = [...trainer.steps()];
      return { trainer, events, generator };
    };
    const a = run();
    const b = run();
    expect(a.events).toEqual(b.events);
    const iterations = a.events.filter((e) => e.type === "iteration");
    expect(iterations).toHaveLength(20);
    expect(a.events.filter((e) => e.type === "epoch")).toHaveLength(5);
    const first = iterations[0];
    const last = iterations.at(-1)!;
    if (first.type !== "iteration" || last.type !== "iteration") throw new Error("iteration events");
    expect(last.dLoss).not.toBeCloseTo(first.dLoss, 2);
    expect(last.dReal).toBeGreaterThan(first.dReal); // D learns to call the real squares real
    const images = a.generator.forward(sampleLatent(10, 5, new Rng(1)), "eval");
    expect(images.shape).toEqual([10, 1, 8, 8]);
    expect(Math.max(...images.data)).toBeLessThanOrEqual(1);
    expect(Math.min(...images.data)).toBeGreaterThanOrEqual(-1);
  });

  it("scales each optimizer's own learning rate by the schedule before each iteration", () => {
    /** Records the learning rate each step was taken with. */
    class LrRecorder implements Optimizer {
      seen: number[] = [];
      constructor(public lr: number) {}
      step(): void {
        this.seen.push(this.lr);
      }
    }
    const { generator, discriminator } = tinyGan(new Rng(2), "float32");
    const base = {
      generator,
      discriminator,
      data: squares(16, "float32"),
      latentSize: 5,
      batchSize: 4,
      rng: new Rng(1),
    };
    const gOpt = new LrRecorder(0.002);
    const dOpt = new LrRecorder(0.008);
    const calls: [number, number][] = [];
    new GanTrainer({
      ...base,
      iterations: 6, // crosses an epoch's end (4 batches an epoch)
      generatorOptimizer: gOpt,
      discriminatorOptimizer: dOpt,
      lrSchedule: (iteration, iterations) => {
        calls.push([iteration, iterations]);
        return 1 - iteration / 8;
      },
    }).run();
    expect(calls).toEqual([0, 1, 2, 3, 4, 5].map((i) => [i, 6]));
    const factors = [1, 7 / 8, 6 / 8, 5 / 8, 4 / 8, 3 / 8];
    factors.forEach((f, i) => {
      expect(gOpt.seen[i]).toBeCloseTo(0.002 * f, 15);
      expect(dOpt.seen[i]).toBeCloseTo(0.008 * f, 15);
    });
    const noLr = { step: () => undefined };
    expect(
      () => new GanTrainer({ ...base, iterations: 1, generatorOptimizer: noLr, lrSchedule: () => 1 }),
    ).toThrow(/lrSchedule needs optimizers with an lr to schedule/);
  });

  it("refuses settings that cannot train", () => {
    const { generator, discriminator } = tinyGan(new Rng(2), "float32");
    const base = { generator, discriminator, latentSize: 5, rng: new Rng(1), epochs: 1 };
    expect(() => new GanTrainer({ ...base, data: squares(8, "float32"), batchSize: 16 })).toThrow(
      /8 images are fewer than one batch of 16/,
    );
    expect(
      () => new GanTrainer({ ...base, data: squares(16, "float32"), batchSize: 4, realLabel: 0 }),
    ).toThrow(/realLabel must be in \(0, 1\]/);
    expect(() => new GanTrainer({ ...base, data: squares(16, "float32"), batchSize: 4, epochs: 0 })).toThrow(
      /epochs must be a positive integer/,
    );
    for (const categories of [1, 5, -2, 2.5]) {
      expect(
        () => new GanTrainer({ ...base, data: squares(16, "float32"), batchSize: 4, categories }),
      ).toThrow(`categories must be 0 (none) or an integer from 2 to latentSize − 1 (4), got ${categories}`);
    }
    expect(
      () =>
        new GanTrainer({
          ...base,
          data: squares(16, "float32"),
          batchSize: 4,
          categories: 2,
          infoWeight: -1,
        }),
    ).toThrow(/infoWeight must be a finite number ≥ 0, got -1/);
    const data = squares(16, "float32");
    const labels = new Int32Array(16);
    expect(() => new GanTrainer({ ...base, data, batchSize: 4, labels })).toThrow(
      /labels need categories \(one per class\)/,
    );
    expect(
      () => new GanTrainer({ ...base, data, batchSize: 4, categories: 3, labels: labels.subarray(1) }),
    ).toThrow(/15 labels for 16 images/);
    labels[9] = 3;
    expect(() => new GanTrainer({ ...base, data, batchSize: 4, categories: 3, labels })).toThrow(
      /label 3 of image 9 is not a class of the 3 categories \(0–2\)/,
    );
  });

  describe("resumes exactly", () => {
    type Net = ReturnType<typeof tinyGan>["generator"];
    /** A tiny run with Adam for both networks and a generator average, from its seeds. */
    const setup = (iterations: number) => {
      const { generator, discriminator } = tinyGan(new Rng(2), "float32");
      const averaged = tinyGan(new Rng(3), "float32").generator;
      const updater = new WeightAverage(generator, averaged, { decay: 0.9 });
      const options = {
        generator,
        discriminator,
        data: squares(40, "float32"), // 2 batches of 16 per epoch (8 images left over)
        latentSize: 5,
        batchSize: 16,
        iterations,
        generatorOptimizer: new Adam({ lr: 0.01, beta1: 0.5 }),
        discriminatorOptimizer: new Adam({ lr: 0.01, beta1: 0.5 }),
        generatorAverage: updater,
        rng: new Rng(7),
      };
      return { options, generator, discriminator, averaged, updater };
    };
    /** Every tensor that a checkpoint keeps of a network: params, then batch norm statistics. */
    const tensors = (net: Net) => [
      ...net.params.map((p) => p.value),
      ...net.layers.flatMap((l) => (l instanceof BatchNormalization ? [l.runningMean, l.runningVar] : [])),
    ];
    const copyInto = (from: Net, to: Net) => {
      const t = tensors(to);
      tensors(from).forEach((a, i) => t[i].data.set(a.data));
    };

    const straight = (iterations: number) => {
      const s = setup(iterations);
      const events = [...new GanTrainer(s.options).steps()];
      return { events, ...s };
    };

    /**
     * A run of `firstTotal` iterations stopped after `stopAfterEvents` events (or at its end), then a
     * fresh run of `total` from its position and a copy of its networks', optimizers' and average's state.
     */
    const resumed = (stopAfterEvents: number, total: number, firstTotal = total) => {
      const first = setup(firstTotal);
      const trainer = new GanTrainer(first.options);
      const events: GanEvent[] = [];
      for (const event of trainer.steps()) {
        events.push(event);
        if (events.length === stopAfterEvents) break;
      }
      const position: GanPosition = JSON.parse(JSON.stringify(trainer.position()));
      const second = setup(total);
      copyInto(first.generator, second.generator);
      copyInto(first.discriminator, second.discriminator);
      copyInto(first.averaged, second.averaged);
      second.updater.restore(first.updater.updates);
      for (const [from, to, net] of [
        [first.options.generatorOptimizer, second.options.generatorOptimizer, first.generator],
        [first.options.discriminatorOptimizer, second.options.discriminatorOptimizer, first.discriminator],
      ] as const) {
        const netTo = net === first.generator ? second.generator : second.discriminator;
        to.setState(netTo.params, from.state(net.params));
      }
      const rest = [...new GanTrainer({ ...second.options, resume: position }).steps()];
      return { events: [...events, ...rest], ...second };
    };

    const same = (
      a: { events: GanEvent[]; generator: Net; averaged: Net; discriminator: Net },
      b: typeof a,
    ) => {
      expect(b.events).toEqual(a.events);
      for (const net of ["generator", "discriminator", "averaged"] as const) {
        const [ta, tb] = [tensors(a[net]), tensors(b[net])];
        ta.forEach((t, i) => expect(tb[i].data).toEqual(t.data));
      }
    };

    it("from a stop mid-epoch, at an epoch's last batch or at an epoch's end", () => {
      const whole = straight(7); // epochs of 2 batches: 1 2 | 3 4 | 5 6 | 7
      // Events: it1 it2 ep1 it3 it4 ep2 it5 …: stop after it1 (mid-epoch), it4 (last batch), ep2 (end).
      for (const stop of [1, 5, 6]) same(whole, resumed(stop, 7));
    });

    it("a finished shorter run extends to a longer one, the same as running it whole", () => {
      // 5 iterations end in the middle of epoch 3 (the epoch event of a cut-short epoch keeps its place).
      const whole = straight(9);
      const short = straight(5);
      expect(short.events.at(-1)).toMatchObject({ type: "epoch", epoch: 3 });
      const extended = resumed(Infinity, 9, 5);
      expect(extended.events.slice(0, short.events.length)).toEqual(short.events);
      // The cut-short epoch reports its end twice: for the short run and again when it is whole.
      // (Its iteration events also name the total of the run they belong to.)
      const events = extended.events
        .filter((_, i) => i !== short.events.length - 1)
        .map((e) => (e.type === "iteration" ? { ...e, iterations: 9 } : e));
      same(whole, { ...extended, events });
    });

    it("refuses a position that does not fit the run", () => {
      const s = setup(4);
      const position = new GanTrainer(s.options).position();
      expect(
        () =>
          new GanTrainer({ ...s.options, resume: { ...position, iteration: 9, epoch: 5, batchesDone: 1 } }),
      ).toThrow(/does not fit this run \(4 iterations, 2 per epoch\)/);
      expect(() => new GanTrainer({ ...s.options, resume: { ...position, batchesDone: 1 } })).toThrow(
        /does not fit this run/,
      );
      expect(() => new GanTrainer({ ...s.options, resume: { ...position, dSum: NaN } })).toThrow(
        /resume position is not valid/,
      );
    });
  });
});
