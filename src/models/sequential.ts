import { OptionError } from "../errors.js";
import type { Layer, LossLayer, Mode, Param } from "../layers/layer.js";
import { fuseLayers } from "../layers/fused-convolution.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { NDArray, deviceStep, keepFromStep, type DType, type Labels } from "../ndarray.js";
import { axpby } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { kernels } from "../backend/index.js";
import type { Rng, RngState } from "../rng.js";
import { Dropout } from "../layers/dropout.js";
import { numericalGradient } from "../testing/gradcheck.js";
import { assertFinite, findNonFinite } from "../ops/check.js";
import { buildLayers, type LayerSpec } from "./layer-spec.js";
import type { Model, ModelSpec } from "./model.js";
import { specOptions } from "./spec.js";
import { accuracySteps, finishNow } from "../train/accuracy.js";

export interface SequentialOptions {
  /** L2 weight decay λ: ½λΣW² joins the loss and λW each W's gradient (book §6.4.1). */
  weightDecayLambda?: number;
  /** The architecture these layers were built from, so the model can be saved and rebuilt. */
  spec?: ModelSpec;
  /**
   * Run each Convolution → ReLU (→ max Pooling) as one fused step (default true): the same values,
   * with fewer passes over the activations (bench/README.md). False runs every layer on its own.
   */
  fuse?: boolean;
}

/** A "sequential" spec: any stack of layers, then SoftmaxWithLoss. */
export type SequentialSpec = {
  kind: "sequential";
  inputShape: number[];
  outputSize: number;
  layers: LayerSpec[];
  weightDecayLambda?: number;
};

/**
 * A stack of layers and a loss layer: the structure of every network in the book.
 *
 * Params are the layers' own, renamed the book's way — W1, b1, W2, …, gamma1, beta1 — by counting
 * each name through the stack, so `params` reads like the book's `network.params` dict and model
 * files get unique names. Weight decay applies to every param a layer calls "W" (Affine and
 * Convolution weights), as the book's MultiLayerNet does.
 */
export class Sequential implements Model {
  readonly layers: readonly Layer[];
  readonly lossLayer: LossLayer;
  readonly params: readonly Param[];
  readonly weightDecayLambda: number;
  readonly #decayed: readonly Param[];
  readonly #spec: ModelSpec | undefined;
  /** What predict and backward run: the layers, with fusable blocks fused. */
  readonly #steps: readonly Layer[];
  /** Each param's layer, for messages (describeParam). */
  readonly #owners = new Map<string, string>();

  constructor(
    layers: readonly Layer[],
    lossLayer: LossLayer = new SoftmaxWithLoss(),
    options: SequentialOptions = {},
  ) {
    const { weightDecayLambda = 0, spec, fuse = true } = options;
    if (!(weightDecayLambda >= 0) || !Number.isFinite(weightDecayLambda)) {
      throw new OptionError(`weightDecayLambda must be a finite number ≥ 0, got ${weightDecayLambda}`);
    }
    this.layers = layers;
    // Nothing reads the first layer's dx (backward() returns no input gradient): a layer that can
    // skip computing it (Convolution, Affine) is told so. For SimpleConvNet that is ≈13 % of a step.
    const first = layers[0];
    if (first?.needsInputGrad !== undefined) first.needsInputGrad = false;
    this.#steps = fuse ? fuseLayers(layers) : layers;
    this.lossLayer = lossLayer;
    this.weightDecayLambda = weightDecayLambda;
    this.#spec = spec;
    this.params = numberedParams(layers);
    let at = 0;
    for (const [i, layer] of layers.entries()) {
      for (let k = 0; k < layer.params.length; k++)
        this.#owners.set(this.params[at++].name, layerName(i, layer));
    }
    this.#decayed = this.params.filter((p) => /^W\d+$/.test(p.name));
  }

  /** Builds the layers a "sequential" spec lists (weights from `rng`), then SoftmaxWithLoss. */
  static fromLayerSpecs(spec: SequentialSpec, rng: Rng, dtype: DType = "float32"): Sequential {
    const { inputShape, outputSize, layers, weightDecayLambda } = specOptions(spec, "sequential", [
      "layers",
      "weightDecayLambda",
    ]);
    if (!Array.isArray(layers))
      throw new OptionError(`sequential model spec: layers must be a list of layer specs`);
    const built = buildLayers(inputShape, layers, rng, dtype);
    if (built.outputShape.length !== 1 || built.outputShape[0] !== outputSize) {
      throw new OptionError(
        `sequential model spec: the layers end in samples of shape (${built.outputShape.join(", ")}), not the ${outputSize} class scores of outputSize`,
      );
    }
    return new Sequential(built.layers, new SoftmaxWithLoss(), {
      weightDecayLambda,
      spec: structuredClone(spec),
    });
  }

  get spec(): ModelSpec {
    if (this.#spec === undefined) {
      throw new Error(
        "this Sequential was built from layer objects, so it has no spec to save; build it from a spec with Sequential.fromLayerSpecs",
      );
    }
    return this.#spec;
  }

  /** The state of every random generator the layers draw from in training (dropout masks), in order. */
  randomState(): RngState[] {
    return this.#randomLayers().map((layer) => layer.rng.getState());
  }

  /** Restores what `randomState()` returned, so training continues with the same masks. */
  setRandomState(states: readonly RngState[]): void {
    const layers = this.#randomLayers();
    if (states.length !== layers.length) {
      throw new RangeError(`setRandomState: ${states.length} states for ${layers.length} random layers`);
    }
    layers.forEach((layer, i) => layer.rng.setState(states[i]));
  }

  #randomLayers(): Dropout[] {
    return this.layers.filter((layer): layer is Dropout => layer instanceof Dropout);
  }

  /** Scores for `x`; refuses an input holding NaN or ±Infinity (NonFiniteError). */
  predict(x: NDArray, mode: Mode = "eval"): NDArray {
    assertFinite("predict: the input", x);
    return keepFromStep(this.#forward(x, mode));
  }

  /**
   * Forward, loss layer and weight decay. The input is not scanned here (the Trainer checks its
   * data sets once, and every loss for being finite).
   */
  loss(x: NDArray, t: Labels, mode: Mode = "train"): number {
    if (kernels().device) throw asyncOnly("loss");
    const data = this.lossLayer.forward(this.#forward(x, mode), t);
    return data + this.#weightDecay();
  }

  /**
   * `loss` as a (1,) array: on a device backend it stays on the device until read
   * (`await a.read()`), so a training step is recorded whole before anything waits for the GPU.
   */
  lossArray(x: NDArray, t: Labels, mode: Mode = "train"): NDArray {
    return keepFromStep(
      deviceStep(
        this,
        true,
        () => {
          const scores = this.#layers(x, mode);
          const layer = this.lossLayer;
          const loss =
            layer.lossArray?.(scores, t) ?? NDArray.from([layer.forward(scores, t)], [1], scores.dtype);
          if (this.weightDecayLambda === 0) return loss;
          // ½λΣW², each ΣW² as the product of W flattened with itself
          let sum = loss;
          for (const p of this.#decayed) {
            const w = p.value.reshape(1, p.value.size);
            sum = axpby(1, sum, 0.5 * this.weightDecayLambda, matmul(w, w, { transB: true }).reshape(1));
          }
          return sum;
        },
        x,
      ),
    );
  }

  /** The layers' forward as a new step of this model (a device recycles the previous step's arrays). */
  #forward(x: NDArray, mode: Mode): NDArray {
    return deviceStep(this, true, () => this.#layers(x, mode), x);
  }

  #layers(x: NDArray, mode: Mode): NDArray {
    let y = x;
    for (const step of this.#steps) y = step.forward(y, mode);
    return y;
  }

  /** Which layer a param belongs to, for messages: "layer 3 (Affine)". */
  describeParam(name: string): string | undefined {
    return this.#owners.get(name);
  }

  /**
   * Runs `x` through the layers one at a time (unfused, in `mode`) and names the first whose
   * output holds a NaN or ±Infinity, for the message after a non-finite loss; undefined if none does.
   */
  locateNonFinite(x: NDArray, mode: Mode = "train"): string | undefined {
    let y = x;
    for (const [i, layer] of this.layers.entries()) {
      y = layer.forward(y, mode);
      if (findNonFinite(y.data) >= 0) return layerName(i, layer);
    }
    return undefined;
  }

  backward(): void {
    deviceStep(this, false, () => {
      let dout = this.lossLayer.backward();
      const steps = this.#steps;
      for (let i = steps.length - 1; i >= 0; i--) dout = steps[i].backward(dout);
      const lambda = this.weightDecayLambda;
      if (lambda === 0) return;
      for (const p of this.#decayed) {
        // dW += λW, in place: the grad array is the one this backward just made.
        const grad = p.grad as NDArray;
        kernels().axpby(grad.buf, 1, grad.buf, lambda, p.value.buf);
      }
    });
  }

  accuracy(x: NDArray, t: Labels, batchSize = 100): number {
    if (kernels().device) throw asyncOnly("accuracy");
    assertFinite("accuracy: the input", x);
    return finishNow(accuracySteps(this, x, t, batchSize));
  }

  /** The book's `gradient(x, t)`: loss and backward, then each param's gradient by name. */
  gradient(x: NDArray, t: Labels): Record<string, NDArray> {
    this.loss(x, t);
    this.backward();
    // Kept: the caller may hold these past the model's next step.
    return Object.fromEntries(this.params.map((p) => [p.name, keepFromStep(p.grad as NDArray)]));
  }

  /**
   * The book's `numerical_gradient(x, t)`: central differences of the loss for every weight —
   * slow (two forward passes per weight) and only meaningful in float64; for gradient checks.
   */
  numericalGradient(x: NDArray, t: Labels, h = 1e-4): Record<string, NDArray> {
    return Object.fromEntries(
      this.params.map((p) => [p.name, numericalGradient(() => this.loss(x, t), p.value, h)]),
    );
  }

  /** ½λΣW² over every weight matrix and filter bank. */
  #weightDecay(): number {
    if (this.weightDecayLambda === 0) return 0;
    let sum = 0;
    for (const p of this.#decayed) {
      const w = p.value.data;
      for (let i = 0; i < w.length; i++) sum += w[i] * w[i];
    }
    return 0.5 * this.weightDecayLambda * sum;
  }
}

/**
 * The layers' params named the book's way, by counting each name through the stack: W1, b1, W2, …,
 * gamma1, beta1 (views that read and write the layers' own values and grads).
 */
export function numberedParams(layers: readonly { params: readonly Param[] }[]): Param[] {
  const counts = new Map<string, number>();
  return layers.flatMap((layer) =>
    layer.params.map((p) => {
      const k = (counts.get(p.name) ?? 0) + 1;
      counts.set(p.name, k);
      return renamed(p, `${p.name}${k}`);
    }),
  );
}

/** The error for a method that returns a number, called while the kernels' values live on a device. */
function asyncOnly(method: string): Error {
  return new Error(
    `${method}(): the ${kernels().name} backend sends values back asynchronously; use the Trainer's runAsync/stepsAsync, accuracyAsync, or \`await model.lossArray(x, t).read()\``,
  );
}

/** A Param under another name that reads and writes the layer's own value and grad. */
function renamed(p: Param, name: string): Param {
  return {
    name,
    get value() {
      return p.value;
    },
    set value(v: NDArray) {
      p.value = v;
    },
    get grad() {
      return p.grad;
    },
    set grad(g: NDArray | null) {
      p.grad = g;
    },
  };
}

/** A layer as messages name it: its position from 1 and its class, "layer 3 (Affine)". */
function layerName(index: number, layer: Layer): string {
  return `layer ${index + 1} (${layer.constructor.name})`;
}
