import { kernels } from "../backend/index.js";
import { OptionError, ShapeError, formatShape } from "../errors.js";
import type { Mode, Param } from "../layers/layer.js";
import { SigmoidWithLoss } from "../layers/sigmoid-with-loss.js";
import { NDArray, type DType } from "../ndarray.js";
import { Adam } from "../optimizers/adam.js";
import type { Optimizer } from "../optimizers/optimizer.js";
import type { Rng, RngState } from "../rng.js";
import type { LearningRateSchedule } from "./trainer.js";

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
  /** Images → one logit per image (N, 1): "real" when positive. */
  discriminator: GanNetwork;
  /** Real images (N, C, H, W), in the generator's output range (tanh: [−1, 1]). */
  data: NDArray;
  /** The length of each latent vector z ~ N(0, I). */
  latentSize: number;
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
    }
  | { type: "epoch"; epoch: number; dLoss: number; gLoss: number };

export interface GanHistory {
  /** Per iteration. */
  dLoss: number[];
  gLoss: number[];
  dReal: number[];
  dFake: number[];
}

/** Latent vectors z ~ N(0, I): (n, latentSize). */
export function sampleLatent(n: number, latentSize: number, rng: Rng, dtype: DType = "float32"): NDArray {
  const z = NDArray.zeros([n, latentSize], dtype);
  rng.fillNormal(z.data);
  return z;
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
  readonly #data: NDArray;
  readonly #batchRng: Rng;
  readonly #latentRng: Rng;
  readonly #loss = new SigmoidWithLoss();
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
    positiveInteger("latentSize", latentSize);
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
    this.#data = data;
    this.#average = options.generatorAverage;
    if (options.lrSchedule) {
      const lrs = [this.discriminatorOptimizer.lr, this.generatorOptimizer.lr];
      if (lrs.some((lr) => typeof lr !== "number")) {
        throw new OptionError("GanTrainer: lrSchedule needs optimizers with an lr to schedule");
      }
      this.#schedule = { schedule: options.lrSchedule, baseLrs: lrs as [number, number] };
    }
    this.iterationsPerEpoch = Math.floor(data.shape[0] / batchSize);
    if (options.iterations !== undefined) {
      this.iterations = positiveInteger("iterations", options.iterations);
      this.epochs = Math.ceil(this.iterations / this.iterationsPerEpoch);
    } else {
      this.epochs = positiveInteger("epochs", options.epochs);
      this.iterations = this.epochs * this.iterationsPerEpoch;
    }
    this.#batchRng = rng.split();
    this.#latentRng = rng.split();
    const resume = options.resume;
    if (resume) {
      const counts = [resume.iteration, resume.epoch, resume.batchesDone, resume.count];
      if (
        !counts.every((n) => Number.isInteger(n) && n >= 0) ||
        resume.epoch < 1 ||
        !Number.isFinite(resume.dSum) ||
        !Number.isFinite(resume.gSum)
      ) {
        throw new OptionError(`GanTrainer: resume position is not valid: ${JSON.stringify(resume)}`);
      }
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
        const x = this.#data.takeRows(order.subarray(b * B, (b + 1) * B));
        const z = sampleLatent(B, this.latentSize, this.#latentRng, dtype);
        if (this.#schedule) {
          const { schedule, baseLrs } = this.#schedule;
          const factor = schedule(this.#iteration, this.iterations);
          this.discriminatorOptimizer.lr = baseLrs[0] * factor;
          this.generatorOptimizer.lr = baseLrs[1] * factor;
        }
        const result = this.#step(x, z, real, fakeTarget, realTarget);
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
    for (const event of this.steps()) {
      if (event.type !== "iteration") continue;
      history.dLoss.push(event.dLoss);
      history.gLoss.push(event.gLoss);
      history.dReal.push(event.dReal);
      history.dFake.push(event.dFake);
    }
    return history;
  }

  /** One discriminator step and one generator step. */
  #step(x: NDArray, z: NDArray, real: NDArray, fakeTarget: NDArray, realTarget: NDArray) {
    const G = this.generator;
    const D = this.discriminator;
    const loss = this.#loss;
    const fake = G.forward(z, "train");
    // (2) The discriminator: the real batch, its gradients kept, then the generated batch.
    const lossReal = loss.forward(D.forward(x, "train"), real);
    const dReal = mean(loss.probs);
    D.backward(loss.backward());
    const realGrads = D.params.map((p) => gradOf(p).clone());
    const lossFake = loss.forward(D.forward(fake, "train"), fakeTarget);
    const dFake = mean(loss.probs);
    D.backward(loss.backward());
    D.params.forEach((p, i) => {
      const g = gradOf(p);
      kernels().axpby(g.buf, 1, g.buf, 1, realGrads[i].buf);
    });
    this.discriminatorOptimizer.step(D.params);
    // (3) The generator, through the updated discriminator (whose grads this pass leaves unused).
    const gLoss = loss.forward(D.forward(fake, "train"), realTarget);
    G.backward(D.backward(loss.backward()));
    this.generatorOptimizer.step(G.params);
    this.#average?.update();
    return { dLoss: lossReal + lossFake, gLoss, dReal, dFake };
  }
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
  if (value === undefined || !Number.isInteger(value) || value < 1) {
    throw new OptionError(`GanTrainer: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
