import { ShapeError, formatShape } from "../errors.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import type { Layer, Param } from "../layers/layer.js";
import type { NDArray } from "../ndarray.js";
import { checkRate } from "../optimizers/state.js";

/** A network whose weights (and batch norm statistics, if it has layers) can be averaged. */
export interface AveragedNetwork {
  readonly params: readonly Param[];
  readonly layers?: readonly Layer[];
}

/**
 * An exponential moving average of a network's weights, kept in a second network of the same
 * architecture (Polyak averaging; for GANs Yazıcı et al. 2019, "The unusual effectiveness of
 * averaging in GAN training", and the generators of ProGAN, StyleGAN and BigGAN). After each step:
 *
 *   average ← d·average + (1 − d)·weights,   d = min(decay, (1 + t) / (10 + t))
 *
 * with t the updates before this one: the warm-up of TensorFlow's ExponentialMovingAverage
 * (`num_updates`), so the first updates follow the weights closely instead of staying near the
 * initial ones. Batch normalization's running mean and variance are averaged the same way (they
 * are what the averaged network normalizes with in "eval" mode).
 */
export class WeightAverage {
  readonly decay: number;
  /** The averaged network (the one to draw from). */
  readonly average: AveragedNetwork;
  readonly #pairs: { from: () => NDArray; to: () => NDArray }[];
  #updates = 0;

  constructor(source: AveragedNetwork, average: AveragedNetwork, { decay = 0.999 }: { decay?: number } = {}) {
    this.decay = checkRate("WeightAverage: decay", decay);
    this.average = average;
    const tensors = (n: AveragedNetwork) => [
      ...n.params.map((p) => () => p.value),
      ...(n.layers ?? [])
        .filter((l): l is BatchNormalization => l instanceof BatchNormalization)
        .flatMap((l) => [() => l.runningMean, () => l.runningVar]),
    ];
    const from = tensors(source);
    const to = tensors(average);
    if (from.length !== to.length) {
      throw new ShapeError(
        `WeightAverage: the networks differ: ${from.length} tensors to average into ${to.length}`,
      );
    }
    this.#pairs = from.map((f, i) => {
      const [a, b] = [f(), to[i]()];
      if (a.size !== b.size) {
        throw new ShapeError(
          `WeightAverage: tensor ${i} is ${formatShape(a.shape)} in the network, ${formatShape(b.shape)} in its average`,
        );
      }
      return { from: f, to: to[i] };
    });
    for (const { from, to } of this.#pairs) to().data.set(from().data);
  }

  /** Updates so far (a checkpoint keeps it; `restore` sets it back). */
  get updates(): number {
    return this.#updates;
  }

  /** Continues from a checkpoint whose averaged network was loaded into `average`. */
  restore(updates: number): void {
    if (!Number.isInteger(updates) || updates < 0) {
      throw new RangeError(`WeightAverage: updates must be an integer ≥ 0, got ${updates}`);
    }
    this.#updates = updates;
  }

  /** Moves the average towards the network's current weights. */
  update(): void {
    const t = this.#updates++;
    const d = Math.min(this.decay, (1 + t) / (10 + t));
    // Running statistics may be replaced by new arrays (a loaded file), so they are looked up each time.
    for (const { from, to } of this.#pairs) {
      const a = to().data;
      const w = from().data;
      for (let i = 0; i < a.length; i++) a[i] = d * a[i] + (1 - d) * w[i];
    }
  }
}
