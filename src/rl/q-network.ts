import { OptionError } from "../errors.js";
import { HuberLoss } from "../layers/huber-loss.js";
import type { Layer, LossLayer, Mode, Param } from "../layers/layer.js";
import { buildLayers, type LayerSpec } from "../models/layer-spec.js";
import { Sequential } from "../models/sequential.js";
import type { ModelKind, ModelSpec } from "../models/model.js";
import { specOptions } from "../models/spec.js";
import type { DType, Labels, NDArray } from "../ndarray.js";
import type { Rng } from "../rng.js";

/**
 * A Q-network's architecture as plain JSON (saved in its model file): layers from an observation
 * of `inputShape` to one value per action (`outputSize` = the number of actions), trained with the
 * Huber loss of `huberDelta` on the TD error.
 */
export type QNetworkSpec = {
  kind: "q-network";
  inputShape: number[];
  outputSize: number;
  layers: LayerSpec[];
  huberDelta?: number;
};

/**
 * DQN's loss seen as a Sequential's loss layer: the labels are the taken actions (one index per
 * sample, as class labels are), the TD targets come with each batch.
 */
class TakenActionHuber implements LossLayer {
  readonly huber: HuberLoss;
  targets: NDArray | null = null;

  constructor(delta: number | undefined) {
    this.huber = new HuberLoss({ delta });
  }

  forward(q: NDArray, actions: Labels): number {
    if (this.targets === null) throw new Error("QNetwork: the TD targets are set by QNetwork.loss");
    return this.huber.forward(q, this.targets, actions);
  }

  backward(): NDArray {
    return this.huber.backward();
  }
}

/**
 * Q(s, ·): an observation in, the value of each action out (N, actions). Not a classifier: its loss
 * is the Huber loss of Q(s, a) − y on the action a taken, y the TD target. The layers run as a
 * Sequential's (the book's W1, b1, … names, fused convolutions).
 */
export class QNetwork {
  readonly spec: QNetworkSpec;
  readonly #net: Sequential;
  readonly #loss: TakenActionHuber;

  constructor(spec: QNetworkSpec, rng: Rng, dtype: DType = "float32") {
    // specOptions checks the kind, the keys and the sizes of any spec (ModelKind lists the classifiers).
    const checked = specOptions(spec as unknown as ModelSpec, "q-network" as ModelKind, [
      "layers",
      "huberDelta",
    ]);
    const { inputShape, outputSize, layers, huberDelta } = checked as Omit<QNetworkSpec, "kind">;
    if (!Array.isArray(layers)) throw new OptionError(`q-network spec: layers must be a list of layer specs`);
    const built = buildLayers(inputShape, layers, rng, dtype);
    if (built.outputShape.length !== 1 || built.outputShape[0] !== outputSize) {
      throw new OptionError(
        `q-network spec: the layers end in samples of shape (${built.outputShape.join(", ")}), not the ${outputSize} action values of outputSize`,
      );
    }
    this.#loss = new TakenActionHuber(huberDelta);
    this.#net = new Sequential(built.layers, this.#loss);
    this.spec = structuredClone(spec);
  }

  get params(): readonly Param[] {
    return this.#net.params;
  }

  get layers(): readonly Layer[] {
    return this.#net.layers;
  }

  get actionCount(): number {
    return this.spec.outputSize;
  }

  /** Q-values (N, actions) of observations (N, ...inputShape). */
  predict(x: NDArray, mode: Mode = "eval"): NDArray {
    return this.#net.predict(x, mode);
  }

  /** The Huber loss of Q(x, actions) against the TD targets (N,), averaged over the batch. */
  loss(x: NDArray, actions: Labels, targets: NDArray): number {
    this.#loss.targets = targets;
    return this.#net.loss(x, actions);
  }

  /** After loss(): fills every param.grad (nonzero only through the taken actions' values). */
  backward(): void {
    this.#net.backward();
  }

  /** Sets every weight to `source`'s (the target network's periodic copy of the online network). */
  copyFrom(source: QNetwork): void {
    const from = source.params;
    if (from.length !== this.params.length) {
      throw new OptionError(`QNetwork.copyFrom: ${from.length} params into ${this.params.length}`);
    }
    this.params.forEach((p, i) => {
      if (p.value.size !== from[i].value.size) {
        throw new OptionError(
          `QNetwork.copyFrom: ${from[i].name} has ${from[i].value.size} values, ${p.name} ${p.value.size}`,
        );
      }
      p.value.data.set(from[i].value.data);
    });
  }
}

/** The book-scale Q-networks: an MLP for a state vector, a small convolutional net for frames. */
export function defaultQNetworkSpec(inputShape: readonly number[], actions: number): QNetworkSpec {
  // The second convolution halves the screen: a 4-wide filter on an even side, 3 on an odd one.
  const halving = (side: number) => (side % 2 === 0 ? 4 : 3);
  const layers: LayerSpec[] =
    inputShape.length === 1
      ? [
          { type: "affine", outputSize: 128 },
          { type: "relu" },
          { type: "affine", outputSize: 128 },
          { type: "relu" },
          { type: "affine", outputSize: actions },
        ]
      : [
          // The DQN paper's shape (convolutions, then one hidden layer), sized for a 10×10 screen.
          { type: "convolution", filters: 16, fh: 3, fw: 3, pad: 1 },
          { type: "relu" },
          {
            type: "convolution",
            filters: 32,
            fh: halving(inputShape[1]),
            fw: halving(inputShape[2]),
            stride: 2,
            pad: 1,
          },
          { type: "relu" },
          { type: "affine", outputSize: 128 },
          { type: "relu" },
          { type: "affine", outputSize: actions },
        ];
  return { kind: "q-network", inputShape: [...inputShape], outputSize: actions, layers };
}
