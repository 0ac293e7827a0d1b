import { kernels } from "../backend/index.js";
import { OptionError, ShapeError, formatShape } from "../errors.js";
import type { Mode, Param } from "../layers/layer.js";
import { SigmoidWithLoss } from "../layers/sigmoid-with-loss.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { NDArray, type DType, type Labels } from "../ndarray.js";
import { Adam } from "../optimizers/adam.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import type { Rng, RngState } from "../rng.js";
import type { LearningRateSchedule } from "./trainer.js";
import { checkResumeCounts, positiveInteger as checkedPositive, runLength } from "./run-length.js";

/**
 * What adversarial training needs of a network: a forward pass, and a backward pass from the
 * gradient of its output that fills its params' grads and returns the gradient of its input (the
 * discriminator's input gradient is what trains the generator).
 */
export interface GanNetwork {
  readonly params: readonly Param[];
  forward(x: NDArray, mode: Mode): NDArray;
  /** After forward: fills every param's grad and returns dL/dx. Never mutates `dout`. */
  backward(dout: NDArray): NDArray;
}

export interface GanTrainerOptions {
  /** Latent vectors (N, latentSize) → images of the data's shape. */
  generator: GanNetwork;
  /**
   * Images → one logit per image (N, 1): "real" when positive. With `categories` K, (N, 1 + K):
   * the logit, then K logits of the code the image was drawn from (InfoGAN's Q head).
   */
  discriminator: GanNetwork;
  /** Real images (N, C, H, W), in the generator's output range (tanh: [−1, 1]). */
  data: NDArray;
  /** The length of each latent vector (noise z ~ N(0, I), then the code with `categories`). */
  latentSize: number;
  /**
   * InfoGAN (Chen et al. 2016): the last K entries of each latent vector are a one-hot code drawn
   * uniformly, and both networks also minimize `infoWeight` · the cross-entropy of the
   * discriminator's code logits against the code the generated image was drawn from: the generator
   * learns to make its code recoverable from the image (in the InfoGAN paper, with K = 10 on digits,
   * the code came to mean the digit; with zerodl's DCGAN it did not: docs/gan.md). Default 0: none
   * (plain DCGAN).
   */
  categories?: number;
  /** λ, the weight of the code's cross-entropy in both networks' losses (default 1, the paper's for discrete codes). */
  infoWeight?: number;
  /**
   * The real images' classes (0 … categories − 1), one per image: the code then means the class
   * (AC-GAN, Odena et al. 2017, a class-conditional DCGAN): the discriminator's code logits also
   * learn to classify the real images (λ · their cross-entropy against these labels is added to its
   * loss), so a generated image of code k must look like the class k of the data. Needs `categories`.
   */
  labels?: Labels;
  /** Default Adam with lr 0.0002, β1 = 0.5 (the DCGAN paper's); one per network. */
  generatorOptimizer?: Optimizer;
  discriminatorOptimizer?: Optimizer;
  /** Images per batch, real and generated alike (default 64). */
  batchSize?: number;
  /** Passes over the data (each floor(N / batchSize) full batches); or give `iterations`. */
  epochs?: number;
  /** Stop after this many iterations in all instead. */
  iterations?: number;
  /** Drives the batch order and the latent vectors (each from its own split). */
  rng: Rng;
  /**
   * The discriminator's target for real images (default 1; 0.9 is "one-sided label smoothing",
   * Salimans et al. 2016). Generated images always target 0, and the generator's loss targets 1.
   */
  realLabel?: number;
  /**
   * Scales both optimizers' learning rates before each iteration: lr = (each one's lr when the
   * trainer was made) · schedule(iteration, iterations), iteration counting from 0 (e.g.
   * `cosineSchedule`, a decay to 0 over the run). It depends on the iteration and the run's length
   * only, so a resumed run follows it exactly; a run of another length follows another schedule.
   */
  lrSchedule?: LearningRateSchedule;
  /**
   * An average of the generator's weights, updated after each generator step (`WeightAverage`:
   * an exponential moving average, whose images are usually cleaner than the last step's).
   */
  generatorAverage?: { update(): void };
  /**
   * Continue a run from `position()` of a trainer with the same options: the remaining batches and
   * latent vectors are exactly those of the uninterrupted run (the networks', the optimizers' and
   * the average's state are restored separately).
   */
  resume?: GanPosition;
}

/** Where a GAN run stands (JSON-serializable), for checkpoints. */
export interface GanPosition {
  /** Iterations done in all. */
  iteration: number;
  /** The epoch in progress (from 1). */
  epoch: number;
  /** Batches of that epoch already trained on. */
  batchesDone: number;
  /** Sums and count of that epoch's losses so far (their means are reported at its end). */
  dSum: number;
  gSum: number;
  count: number;
  /** The batch generator as it was when that epoch began (its order is drawn again). */
  batchRng: RngState;
  /** The latent generator as it is now. */
  latentRng: RngState;
}

export type GanEvent =
  | {
      type: "iteration";
      epoch: number;
      iteration: number;
      iterations: number;
      /** The discriminator's loss: BCE on the real batch plus BCE on the generated batch. */
      dLoss: number;
      /** The generator's loss: BCE of D(G(z)) against "real" (the non-saturating loss). */
      gLoss: number;
      /** Mean D(x) over the real batch and D(G(z)) over the generated one (probabilities). */
      dReal: number;
      dFake: number;
      /** With categories: the code's cross-entropy on the generated batch in the generator's step (nats). */
      infoLoss?: number;
    }
  | { type: "epoch"; epoch: number; dLoss: number; gLoss: number };

export interface GanHistory {
  /** Per iteration. */
  dLoss: number[];
  gLoss: number[];
  dReal: number[];
  dFake: number[];
  /** With categories: per iteration. */
  infoLoss?: number[];
}

/**
 * Latent vectors (n, latentSize): z ~ N(0, I); with `categories` K, each row's last K entries are
 * instead a one-hot code, its category drawn uniformly (after all the rows' noise), or given by
 * `code`: one category for every row, or one per row.
 */
export function sampleLatent(
  n: number,
  latentSize: number,
  rng: Rng,
  dtype: DType = "float32",
  categories = 0,
  code?: number | ArrayLike<number>,
): NDArray {
  const z = NDArray.zeros([n, latentSize], dtype);
  if (categories === 0) {
    if (code !== undefined) throw new OptionError("sampleLatent: there is no categorical code to fix");
    rng.fillNormal(z.data);
    return z;
  }
  const codes = typeof code === "number" ? new Array<number>(n).fill(code) : code;
  if (codes !== undefined) {
    if (codes.length !== n)
      throw new OptionError(`sampleLatent: ${codes.length} codes for ${n} latent vectors`);
    for (let i = 0; i < n; i++) {
      const c = codes[i];
      if (!(Number.isInteger(c) && c >= 0 && c < categories)) {
        throw new OptionError(`sampleLatent: code must be an integer in 0–${categories - 1}, got ${c}`);
      }
    }
  }
  const noise = latentSize - categories;
  const values = dtype === "float64" ? new Float64Array(n * noise) : new Float32Array(n * noise);
  rng.fillNormal(values);
  for (let i = 0; i < n; i++) {
    z.data.set(values.subarray(i * noise, (i + 1) * noise), i * latentSize);
    z.data[i * latentSize + noise + (codes ? codes[i] : rng.int(categories))] = 1;
  }
  return z;
}

/** The categories of latent vectors' one-hot codes (the last `categories` entries of each row). */
export function latentCodes(z: NDArray, categories: number): Labels {
  const [n, latentSize] = z.shape;
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = z.data.subarray(i * latentSize + latentSize - categories, (i + 1) * latentSize);
    codes[i] = row.indexOf(1);
  }
  return codes;
}

/**
 * Adversarial training (Goodfellow et al. 2014; DCGAN, Radford et al. 2016; book §8.5.2): two
 * networks, two optimizers, alternating steps. Each iteration:
 *   1. the generator draws a batch from fresh latent vectors;
 *   2. the discriminator steps on BCE(D(x), real) + BCE(D(G(z)), 0), a real and a generated batch
 *      run separately (so its batch norm never mixes them) and their gradients summed;
 *   3. the generator steps on BCE(D(G(z)), 1) through the updated discriminator, its gradient the
 *      discriminator's input gradient (the "non-saturating" loss: −log D(G(z)) rather than
 *      log(1 − D(G(z))), whose gradient vanishes while D wins easily).
 * With `categories` (InfoGAN), both steps add λ · the cross-entropy of D's code logits on the
 * generated batch against its codes; with `labels` too (AC-GAN), the discriminator's step also adds
 * λ · their cross-entropy on the real batch against its labels.
 * Both networks run in "train" mode throughout. Seeded: the same rng gives the same run.
 */
export class GanTrainer {
  readonly generator: GanNetwork;
  readonly discriminator: GanNetwork;
  readonly generatorOptimizer: Optimizer;
  readonly discriminatorOptimizer: Optimizer;
  readonly latentSize: number;
  readonly batchSize: number;
  readonly iterationsPerEpoch: number;
  readonly epochs: number;
  readonly iterations: number;
  readonly realLabel: number;
  readonly categories: number;
  readonly infoWeight: number;
  readonly #data: NDArray;
  readonly #labels: Labels | undefined;
  readonly #batchRng: Rng;
  readonly #latentRng: Rng;
  readonly #loss = new SigmoidWithLoss();
  readonly #codeLoss = new SoftmaxWithLoss();
  readonly #average: { update(): void } | undefined;
  readonly #schedule: { schedule: LearningRateSchedule; baseLrs: [number, number] } | undefined;
  #iteration = 0;
  #epoch = 1;
  #batchesDone = 0;
  #dSum = 0;
  #gSum = 0;
  #count = 0;
  /** The batch generator's state when the epoch in progress began (null between epochs). */
  #epochStart: RngState | null = null;

  constructor(options: GanTrainerOptions) {
    const { generator, discriminator, data, latentSize, rng, batchSize = 64, realLabel = 1 } = options;
    const { categories = 0, infoWeight = 1 } = options;
    positiveInteger("latentSize", latentSize);
    if (!Number.isInteger(categories) || categories < 0 || categories === 1 || categories >= latentSize) {
      throw new OptionError(
        `GanTrainer: categories must be 0 (none) or an integer from 2 to latentSize − 1 (${latentSize - 1}), got ${categories}`,
      );
    }
    if (!(infoWeight >= 0 && Number.isFinite(infoWeight))) {
      throw new OptionError(`GanTrainer: infoWeight must be a finite number ≥ 0, got ${infoWeight}`);
    }
    positiveInteger("batchSize", batchSize);
    if (data.ndim < 2)
      throw new ShapeError(`GanTrainer: data must be (N, …) images, got ${formatShape(data.shape)}`);
    if (data.shape[0] < batchSize) {
      throw new OptionError(`GanTrainer: ${data.shape[0]} images are fewer than one batch of ${batchSize}`);
    }
    if (!(realLabel > 0 && realLabel <= 1)) {
      throw new OptionError(`GanTrainer: realLabel must be in (0, 1], got ${realLabel}`);
    }
    this.generator = generator;
    this.discriminator = discriminator;
    this.generatorOptimizer = options.generatorOptimizer ?? new Adam({ lr: 0.0002, beta1: 0.5 });
    this.discriminatorOptimizer = options.discriminatorOptimizer ?? new Adam({ lr: 0.0002, beta1: 0.5 });
    this.latentSize = latentSize;
    this.batchSize = batchSize;
    this.realLabel = realLabel;
    this.categories = categories;
    this.infoWeight = infoWeight;
    this.#data = data;
    const labels = options.labels;
    if (labels) {
      if (categories === 0) throw new OptionError("GanTrainer: labels need categories (one per class)");
      if (labels.length !== data.shape[0]) {
        throw new ShapeError(`GanTrainer: ${labels.length} labels for ${data.shape[0]} images`);
      }
      const bad = labels.findIndex((t) => !(t >= 0 && t < categories));
      if (bad >= 0) {
        throw new OptionError(
          `GanTrainer: label ${labels[bad]} of image ${bad} is not a class of the ${categories} categories (0–${categories - 1})`,
        );
      }
      this.#labels = labels;
    }
    this.#average = options.generatorAverage;
    if (options.lrSchedule) {
      const lrs = [this.discriminatorOptimizer.lr, this.generatorOptimizer.lr];
      if (lrs.some((lr) => typeof lr !== "number")) {
        throw new OptionError("GanTrainer: lrSchedule needs optimizers with an lr to schedule");
      }
      this.#schedule = { schedule: options.lrSchedule, baseLrs: lrs as [number, number] };
    }
    this.iterationsPerEpoch = Math.floor(data.shape[0] / batchSize);
    const length = runLength("GanTrainer", this.iterationsPerEpoch, options);
    this.iterations = length.iterations;
    this.epochs = length.epochs;
    this.#batchRng = rng.split();
    this.#latentRng = rng.split();
    const resume = options.resume;
    if (resume) {
      checkResumeCounts("GanTrainer", resume, [resume.dSum, resume.gSum]);
      if (
        resume.batchesDone > this.iterationsPerEpoch ||
        resume.iteration > this.iterations ||
        resume.iteration !== (resume.epoch - 1) * this.iterationsPerEpoch + resume.batchesDone
      ) {
        throw new OptionError(
          `GanTrainer: resume position (iteration ${resume.iteration}, ${resume.batchesDone} batches into epoch ${resume.epoch}) ` +
            `does not fit this run (${this.iterations} iterations, ${this.iterationsPerEpoch} per epoch)`,
        );
      }
      this.#batchRng.setState(resume.batchRng);
      this.#latentRng.setState(resume.latentRng);
      this.#iteration = resume.iteration;
      this.#epoch = resume.epoch;
      this.#batchesDone = resume.batchesDone;
      this.#dSum = resume.dSum;
      this.#gSum = resume.gSum;
      this.#count = resume.count;
    }
  }

  /** Iterations done so far. */
  get iteration(): number {
    return this.#iteration;
  }

  /** Where the run stands now; `resume` with it continues exactly from here. */
  position(): GanPosition {
    return {
      iteration: this.#iteration,
      epoch: this.#epoch,
      batchesDone: this.#batchesDone,
      dSum: this.#dSum,
      gSum: this.#gSum,
      count: this.#count,
      batchRng: this.#epochStart ?? this.#batchRng.getState(),
      latentRng: this.#latentRng.getState(),
    };
  }

  *steps(): Generator<GanEvent> {
    const B = this.batchSize;
    const dtype = this.#data.dtype;
    const real = NDArray.full([B, 1], this.realLabel, dtype);
    const fakeTarget = NDArray.zeros([B, 1], dtype);
    const realTarget = NDArray.full([B, 1], 1, dtype);
    while (this.#epoch <= this.epochs && this.#iteration < this.iterations) {
      const epoch = this.#epoch;
      // A resumed epoch draws its order again from the generator's state at its start and goes on
      // after the batches already trained on.
      this.#epochStart = this.#batchRng.getState();
      const order = this.#batchRng.permutation(this.#data.shape[0]);
      for (let b = this.#batchesDone; b < this.iterationsPerEpoch && this.#iteration < this.iterations; b++) {
        const rows = order.subarray(b * B, (b + 1) * B);
        const x = this.#data.takeRows(rows);
        const classes = this.#labels ? Int32Array.from(rows, (i) => this.#labels![i]) : null;
        const z = sampleLatent(B, this.latentSize, this.#latentRng, dtype, this.categories);
        if (this.#schedule) {
          const { schedule, baseLrs } = this.#schedule;
          const factor = schedule(this.#iteration, this.iterations);
          this.discriminatorOptimizer.lr = baseLrs[0] * factor;
          this.generatorOptimizer.lr = baseLrs[1] * factor;
        }
        const result = this.#step(x, classes, z, real, fakeTarget, realTarget);
        const iteration = ++this.#iteration;
        for (const [what, v] of [
          ["discriminator", result.dLoss],
          ["generator", result.gLoss],
        ] as const) {
          if (!Number.isFinite(v)) {
            throw new Error(`GAN training diverged: the ${what} loss is ${v} at iteration ${iteration}`);
          }
        }
        this.#batchesDone++;
        this.#dSum += result.dLoss;
        this.#gSum += result.gLoss;
        this.#count++;
        yield { type: "iteration", epoch, iteration, iterations: this.iterations, ...result };
      }
      const event: GanEvent = {
        type: "epoch",
        epoch,
        dLoss: this.#dSum / this.#count,
        gLoss: this.#gSum / this.#count,
      };
      // An epoch cut short by the iteration count keeps its place, so a longer run resumes inside
      // it; after a whole one, whoever stops at this event resumes at the next epoch's start.
      const whole = this.#batchesDone === this.iterationsPerEpoch;
      if (whole) {
        this.#epoch++;
        this.#epochStart = null;
        this.#batchesDone = 0;
        this.#dSum = 0;
        this.#gSum = 0;
        this.#count = 0;
      }
      yield event;
      if (!whole) return;
    }
  }

  run(): GanHistory {
    const history: GanHistory = { dLoss: [], gLoss: [], dReal: [], dFake: [] };
    for (const event of this.steps()) if (event.type === "iteration") recordIteration(history, event);
    return history;
  }

  /** One discriminator step and one generator step. */
  #step(
    x: NDArray,
    classes: Labels | null,
    z: NDArray,
    real: NDArray,
    fakeTarget: NDArray,
    realTarget: NDArray,
  ) {
    const G = this.generator;
    const D = this.discriminator;
    const codes = this.categories > 0 ? latentCodes(z, this.categories) : null;
    const fake = G.forward(z, "train");
    // (2) The discriminator: the real batch, its gradients kept, then the generated batch.
    const onReal = this.#losses(D.forward(x, "train"), real, classes);
    D.backward(onReal.dout);
    const realGrads = D.params.map((p) => gradOf(p).clone());
    const onFake = this.#losses(D.forward(fake, "train"), fakeTarget, codes);
    D.backward(onFake.dout);
    D.params.forEach((p, i) => {
      const g = gradOf(p);
      kernels().axpby(g.buf, 1, g.buf, 1, realGrads[i].buf);
    });
    this.discriminatorOptimizer.step(D.params);
    // (3) The generator, through the updated discriminator (whose grads this pass leaves unused).
    const onG = this.#losses(D.forward(fake, "train"), realTarget, codes);
    G.backward(D.backward(onG.dout));
    this.generatorOptimizer.step(G.params);
    this.#average?.update();
    return {
      dLoss: onReal.loss + onFake.loss,
      gLoss: onG.loss,
      dReal: onReal.prob,
      dFake: onFake.prob,
      ...(codes ? { infoLoss: onG.infoLoss } : {}),
    };
  }

  /**
   * The discriminator's output (B, 1) or (B, 1 + K) against `target` for its logit and, given
   * `codes`, the code logits against them (weighted by infoWeight): the adversarial loss, the
   * code's cross-entropy, the mean D(·) and the gradient of the summed loss for D's backward pass.
   */
  #losses(out: NDArray, target: NDArray, codes: Labels | null) {
    const K = this.categories;
    if (K === 0) {
      const loss = this.#loss.forward(out, target);
      return { loss, infoLoss: 0, prob: mean(this.#loss.probs), dout: this.#loss.backward() };
    }
    const B = out.shape[0];
    const logit = NDArray.zeros([B, 1], out.dtype);
    const codeLogits = NDArray.zeros([B, K], out.dtype);
    for (let i = 0; i < B; i++) {
      logit.data[i] = out.data[i * (K + 1)];
      codeLogits.data.set(out.data.subarray(i * (K + 1) + 1, (i + 1) * (K + 1)), i * K);
    }
    const loss = this.#loss.forward(logit, target);
    const prob = mean(this.#loss.probs);
    const dLogit = this.#loss.backward();
    const dout = NDArray.zeros(out.shape, out.dtype);
    for (let i = 0; i < B; i++) dout.data[i * (K + 1)] = dLogit.data[i];
    let infoLoss = 0;
    if (codes) {
      infoLoss = this.#codeLoss.forward(codeLogits, codes);
      const dCodes = this.#codeLoss.backward(this.infoWeight);
      for (let i = 0; i < B; i++) dout.data.set(dCodes.data.subarray(i * K, (i + 1) * K), i * (K + 1) + 1);
    }
    return { loss, infoLoss, prob, dout };
  }
}

/** Appends an iteration event's numbers to a history (the code's loss only when there is one). */
export function recordIteration(history: GanHistory, event: Extract<GanEvent, { type: "iteration" }>): void {
  history.dLoss.push(event.dLoss);
  history.gLoss.push(event.gLoss);
  history.dReal.push(event.dReal);
  history.dFake.push(event.dFake);
  if (event.infoLoss !== undefined) (history.infoLoss ??= []).push(event.infoLoss);
}

function gradOf(p: Param): NDArray {
  if (p.grad === null) throw new Error(`GanTrainer: backward left no gradient for ${p.name}`);
  return p.grad;
}

function mean(a: NDArray): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i];
  return s / a.size;
}

function positiveInteger(name: string, value: number | undefined): number {
  return checkedPositive("GanTrainer", name, value);
}
