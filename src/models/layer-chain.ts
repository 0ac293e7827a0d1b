import { OptionError } from "../errors.js";
import type { Layer, Mode, Param } from "../layers/layer.js";
import { deviceStep, keepFromStep, type DType, type NDArray } from "../ndarray.js";
import type { Rng } from "../rng.js";
import type { GanNetwork } from "../train/gan.js";
import { buildLayers, type LayerSpec } from "./layer-spec.js";
import { numberedParams } from "./sequential.js";

/**
 * A GAN's network as data (book §8.5.2): a chain of layers with no loss layer. A "generator" maps
 * latent vectors (N, latentSize) to images; a "discriminator" maps images to one logit each.
 */
export type ChainSpec = {
  kind: "generator" | "discriminator";
  /** One sample's shape, without the batch axis: [latentSize] for a generator, [C, H, W] for a discriminator. */
  inputShape: number[];
  layers: LayerSpec[];
  /** A generator's output range, for readers of its file: [−1, 1] after tanh. */
  outputRange?: [number, number];
  /**
   * InfoGAN's categorical code (Chen et al. 2016), K categories. A generator's input is then
   * [z (inputShape[0] − K values, N(0, I)), a one-hot code (K values, one of them 1)]; a
   * discriminator's output is [the logit, then K logits of Q(code | image)].
   */
  categories?: number;
  /**
   * A class-conditional generator's (AC-GAN's) classes: category k of its code draws `classes[k]`
   * (as many names as categories). Absent for an unsupervised (InfoGAN) code.
   */
  classes?: string[];
};

const chainKeys = ["kind", "inputShape", "layers", "outputRange", "categories", "classes"];

/**
 * Layers run in order, forward and backward, with the gradient of the input returned (a GAN trains
 * its generator through the discriminator's input gradient). Params are renamed the book's way, as
 * in Sequential: W1, b1, W2, …, gamma1, beta1.
 */
export class LayerChain implements GanNetwork {
  readonly layers: readonly Layer[];
  readonly params: readonly Param[];
  readonly spec: ChainSpec;
  /** One sample's output shape, without the batch axis. */
  readonly outputShape: readonly number[];

  constructor(layers: readonly Layer[], spec: ChainSpec, outputShape: readonly number[]) {
    this.layers = layers;
    this.spec = spec;
    this.outputShape = outputShape;
    this.params = numberedParams(layers);
  }

  /**
   * Builds the layers of a "generator" or "discriminator" spec, weights drawn from `rng`. A
   * generator's first layer skips its input gradient (nothing reads it).
   */
  static fromSpec(spec: ChainSpec, rng: Rng, dtype: DType = "float32"): LayerChain {
    const unknown = Object.keys(spec).filter((k) => !chainKeys.includes(k));
    if (unknown.length > 0) {
      throw new OptionError(
        `${spec.kind} spec: unknown setting ${unknown.join(", ")}; valid: ${chainKeys.join(", ")}`,
      );
    }
    if (spec.kind !== "generator" && spec.kind !== "discriminator") {
      throw new OptionError(
        `layer chain spec: kind must be "generator" or "discriminator", got ${JSON.stringify(spec.kind)}`,
      );
    }
    if (!Array.isArray(spec.inputShape) || !spec.inputShape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new OptionError(
        `${spec.kind} spec: inputShape must be positive integers, got ${JSON.stringify(spec.inputShape)}`,
      );
    }
    if (!Array.isArray(spec.layers) || spec.layers.length === 0) {
      throw new OptionError(`${spec.kind} spec: layers must be a non-empty list of layer specs`);
    }
    const categories = spec.categories ?? 0;
    if (!Number.isInteger(categories) || categories < 0 || categories === 1) {
      throw new OptionError(
        `${spec.kind} spec: categories must be 0 (none) or an integer ≥ 2, got ${JSON.stringify(spec.categories)}`,
      );
    }
    if (spec.kind === "generator" && categories >= spec.inputShape[0]) {
      throw new OptionError(
        `generator spec: its input (${spec.inputShape[0]} values) must hold noise besides the ${categories}-way code`,
      );
    }
    if (
      spec.classes !== undefined &&
      (!Array.isArray(spec.classes) ||
        spec.classes.length !== categories ||
        !spec.classes.every((c) => typeof c === "string"))
    ) {
      throw new OptionError(
        `${spec.kind} spec: classes must name each of the code's ${categories} categories, got ${JSON.stringify(spec.classes)}`,
      );
    }
    const built = buildLayers(spec.inputShape, spec.layers, rng, dtype);
    if (
      spec.kind === "discriminator" &&
      (built.outputShape.length !== 1 || built.outputShape[0] !== 1 + categories)
    ) {
      const wanted = categories > 0 ? `one logit and ${categories} code logits` : "one logit";
      throw new OptionError(
        `discriminator spec: the layers must end in ${wanted} per image, not samples of shape (${built.outputShape.join(", ")})`,
      );
    }
    const first = built.layers[0];
    if (spec.kind === "generator" && first.needsInputGrad !== undefined) first.needsInputGrad = false;
    return new LayerChain(built.layers, structuredClone(spec), built.outputShape);
  }

  /**
   * The layers' forward, as a new step of this network: on the WASM backend its activations live in
   * the WASM memory until the network's next forward (no copies in and out of each kernel, the same
   * blocks every step), as a Graph's do. The output is the caller's to keep.
   */
  forward(x: NDArray, mode: Mode): NDArray {
    const y = deviceStep(this, true, () => this.layers.reduce((a, layer) => layer.forward(a, mode), x), x);
    return keepFromStep(y);
  }

  /** The gradient of the input, after `forward`; valid until the network's next forward. */
  backward(dout: NDArray): NDArray {
    return deviceStep(this, false, () => this.layers.reduceRight((d, layer) => layer.backward(d), dout));
  }
}
