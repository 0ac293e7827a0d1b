import { OptionError, ShapeError, formatShape, unknownOption } from "../errors.js";
import { convFanIn, initWeights, type WeightInit } from "../init.js";
import { Add } from "../layers/add.js";
import { Affine } from "../layers/affine.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { Concat } from "../layers/concat.js";
import { Convolution } from "../layers/convolution.js";
import { Deconvolution } from "../layers/deconvolution.js";
import { Dropout } from "../layers/dropout.js";
import { Flatten } from "../layers/flatten.js";
import { GlobalAveragePooling } from "../layers/global-average-pooling.js";
import type { Layer, MergeLayer } from "../layers/layer.js";
import { LeakyRelu } from "../layers/leaky-relu.js";
import { LRN } from "../layers/lrn.js";
import { Pooling, type PoolingKind } from "../layers/pooling.js";
import { Relu } from "../layers/relu.js";
import { Reshape } from "../layers/reshape.js";
import { Sigmoid } from "../layers/sigmoid.js";
import { Tanh } from "../layers/tanh.js";
import { NDArray, shapeSize, type DType } from "../ndarray.js";
import { convOutputSize, deconvOutputSize } from "../ops/conv.js";
import type { Rng } from "../rng.js";

/**
 * One layer of an architecture as plain JSON, so a network can be saved with its weights and
 * rebuilt. Weights are sized from the shape flowing in, so a spec never repeats an input size.
 * `weightInit` is the book's `weight_init_std` (a std, or "relu"/"he", "sigmoid"/"xavier").
 */
export type LayerSpec =
  | { type: "affine"; outputSize: number; weightInit?: WeightInit }
  | {
      type: "convolution";
      filters: number;
      fh: number;
      fw: number;
      stride?: number;
      pad?: number;
      weightInit?: WeightInit;
    }
  | { type: "pooling"; ph: number; pw: number; stride?: number; pad?: number; kind?: PoolingKind }
  | { type: "relu" }
  | { type: "sigmoid" }
  | { type: "tanh" }
  | { type: "flatten" }
  | { type: "dropout"; ratio?: number; inverted?: boolean }
  | { type: "batchnorm"; momentum?: number; eps?: number }
  | { type: "lrn"; k?: number; n?: number; alpha?: number; beta?: number }
  | { type: "add" }
  | { type: "concat" }
  | { type: "global-average-pooling" }
  | {
      type: "deconvolution";
      filters: number;
      fh: number;
      fw: number;
      stride?: number;
      pad?: number;
      outputPadding?: number;
      weightInit?: WeightInit;
    }
  | { type: "leaky-relu"; alpha?: number }
  | { type: "reshape"; shape: number[] };

export type LayerType = LayerSpec["type"];
export const layerTypes: readonly LayerType[] = [
  "affine",
  "convolution",
  "pooling",
  "relu",
  "sigmoid",
  "tanh",
  "flatten",
  "dropout",
  "batchnorm",
  "lrn",
  "add",
  "concat",
  "global-average-pooling",
  "deconvolution",
  "leaky-relu",
  "reshape",
];

/**
 * The settings each layer type takes (besides `type`): a spec read from a file with any other key
 * is refused, since a setting zerodl ignored would silently change what the network computes.
 */
export const layerKeys: Record<LayerType, readonly string[]> = {
  affine: ["outputSize", "weightInit"],
  convolution: ["filters", "fh", "fw", "stride", "pad", "weightInit"],
  pooling: ["ph", "pw", "stride", "pad", "kind"],
  relu: [],
  sigmoid: [],
  tanh: [],
  flatten: [],
  dropout: ["ratio", "inverted"],
  batchnorm: ["momentum", "eps"],
  lrn: ["k", "n", "alpha", "beta"],
  add: [],
  concat: [],
  "global-average-pooling": [],
  deconvolution: ["filters", "fh", "fw", "stride", "pad", "outputPadding", "weightInit"],
  "leaky-relu": ["alpha"],
  reshape: ["shape"],
};

/** The layer types that merge several inputs (a graph's Add and Concat). */
export const mergeTypes: readonly LayerType[] = ["add", "concat"];

/** The activation layers by name (the book's MultiLayerNet `activation` argument). */
export type Activation = "relu" | "sigmoid" | "tanh";
export const activations: readonly Activation[] = ["relu", "sigmoid", "tanh"];

/** Weights start at "relu" (He) unless a spec says otherwise, as the book's MultiLayerNet. */
const defaultInit: WeightInit = "relu";

/**
 * Builds the layers of `specs` for samples of `inputShape` (without the batch axis), drawing
 * weights from `rng` (biases and β start at 0, γ at 1, as in the book). Each dropout layer gets
 * its own generator split from `rng`. Returns the layers and the per-sample output shape.
 */
export function buildLayers(
  inputShape: readonly number[],
  specs: readonly LayerSpec[],
  rng: Rng,
  dtype: DType = "float32",
): { layers: Layer[]; outputShape: number[] } {
  let shape = [...inputShape];
  const layers: Layer[] = [];
  specs.forEach((spec, i) => {
    const where = `layer ${i} (${spec.type})`;
    const built = buildLayer(spec, [shape], rng, dtype, where);
    if ("merge" in built.layer) {
      throw new OptionError(
        `${where}: merges several inputs, so it belongs in a graph, not in a chain of layers`,
      );
    }
    layers.push(built.layer);
    shape = built.outputShape;
  });
  return { layers, outputShape: shape };
}

/**
 * Builds one layer of `spec` for inputs of the per-sample shapes `inputShapes` (one, or several
 * for a merge), drawing its weights from `rng`. `where` names it in errors.
 */
export function buildLayer(
  spec: LayerSpec,
  inputShapes: readonly (readonly number[])[],
  rng: Rng,
  dtype: DType,
  where: string,
): { layer: Layer | MergeLayer; outputShape: number[] } {
  const merges = mergeTypes.includes(spec.type);
  if (merges ? inputShapes.length < 2 : inputShapes.length !== 1) {
    throw new OptionError(
      `${where}: takes ${merges ? "2 or more inputs" : "one input"}, got ${inputShapes.length}`,
    );
  }
  const shape = [...inputShapes[0]];
  const image = () => {
    if (shape.length !== 3)
      throw new ShapeError(`${where}: needs (C, H, W) samples, got ${formatShape(shape)}`);
    return shape;
  };
  const positive = (key: string, v: unknown) => {
    if (!Number.isInteger(v) || (v as number) < 1) {
      throw new OptionError(`${where}: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  };
  switch (spec.type) {
    case "affine": {
      positive("outputSize", spec.outputSize);
      // An N-D input is flattened by Affine, so every value is an input of each unit.
      const fanIn = shapeSize(shape);
      const W = initWeights([fanIn, spec.outputSize], spec.weightInit ?? defaultInit, fanIn, rng, dtype);
      return {
        layer: new Affine(W, NDArray.zeros([spec.outputSize], dtype)),
        outputShape: [spec.outputSize],
      };
    }
    case "convolution": {
      const [C, H, W] = image();
      const { filters, fh, fw, stride = 1, pad = 0 } = spec;
      for (const key of ["filters", "fh", "fw"] as const) positive(key, spec[key]);
      const weights = initWeights(
        [filters, C, fh, fw],
        spec.weightInit ?? defaultInit,
        convFanIn(C, fh, fw),
        rng,
        dtype,
      );
      return {
        layer: new Convolution(weights, NDArray.zeros([filters], dtype), { stride, pad }),
        outputShape: [
          filters,
          convOutputSize(H, fh, stride, pad, "H"),
          convOutputSize(W, fw, stride, pad, "W"),
        ],
      };
    }
    case "pooling": {
      const pool = new Pooling(spec);
      return { layer: pool, outputShape: pool.outputShape([1, ...image()]).slice(1) };
    }
    case "relu":
      return { layer: new Relu(), outputShape: shape };
    case "sigmoid":
      return { layer: new Sigmoid(), outputShape: shape };
    case "tanh":
      return { layer: new Tanh(), outputShape: shape };
    case "flatten":
      return { layer: new Flatten(), outputShape: [shapeSize(shape)] };
    case "dropout":
      return {
        layer: new Dropout(rng.split(), { ratio: spec.ratio, inverted: spec.inverted }),
        outputShape: shape,
      };
    case "batchnorm": {
      // Per activation for (D,) samples, per channel for (C, H, W) samples.
      if (shape.length !== 1 && shape.length !== 3) {
        throw new ShapeError(`${where}: needs (D,) or (C, H, W) samples, got ${formatShape(shape)}`);
      }
      const features = shape[0];
      const gamma = NDArray.full([features], 1, dtype);
      const layer = new BatchNormalization(gamma, NDArray.zeros([features], dtype), {
        momentum: spec.momentum,
        eps: spec.eps,
      });
      return { layer, outputShape: shape };
    }
    case "lrn":
      image();
      return { layer: new LRN(spec), outputShape: shape };
    case "add": {
      const layer = new Add();
      inputShapes.forEach((s, i) => {
        if (s.length !== shape.length || s.some((d, k) => d !== shape[k])) {
          throw new ShapeError(
            `${where}: input ${i} has shape ${formatShape(s)}, input 0 has ${formatShape(shape)}`,
          );
        }
      });
      return { layer, outputShape: shape };
    }
    case "concat": {
      // Per-sample shapes gain the batch axis for Concat's check, which then names axis 1 channels.
      const layer = new Concat();
      const out = layer.outputShape(inputShapes.map((s) => [1, ...s]));
      return { layer, outputShape: out.slice(1) };
    }
    case "global-average-pooling":
      return { layer: new GlobalAveragePooling(), outputShape: [image()[0]] };
    case "deconvolution": {
      const [C, H, W] = image();
      positive("filters", spec.filters);
      const { filters, fh, fw, stride = 1, pad = 0, outputPadding = 0 } = spec;
      // W (C, FN, FH, FW). Each output pixel sums C·FH·FW / stride² products on average: that is
      // its fan-in for "relu"/"xavier" (PyTorch counts FN·FH·FW for ConvTranspose2d instead).
      const weights = initWeights(
        [C, filters, fh, fw],
        spec.weightInit ?? defaultInit,
        Math.max(1, Math.round(convFanIn(C, fh, fw) / (stride * stride))),
        rng,
        dtype,
      );
      const layer = new Deconvolution(weights, NDArray.zeros([filters], dtype), {
        stride,
        pad,
        outputPadding,
      });
      const outputShape = [
        filters,
        deconvOutputSize(H, fh, stride, pad, outputPadding, "H"),
        deconvOutputSize(W, fw, stride, pad, outputPadding, "W"),
      ];
      return { layer, outputShape };
    }
    case "leaky-relu":
      return { layer: new LeakyRelu({ alpha: spec.alpha }), outputShape: shape };
    case "reshape": {
      const layer = new Reshape(spec.shape);
      if (shapeSize(layer.shape) !== shapeSize(shape)) {
        throw new ShapeError(
          `${where}: cannot hold ${formatShape(shape)} samples (${shapeSize(shape)} values) as ${formatShape(layer.shape)}`,
        );
      }
      return { layer, outputShape: [...layer.shape] };
    }
    default: {
      const unknown: never = spec;
      throw unknownOption("layer type", (unknown as { type: unknown }).type, layerTypes);
    }
  }
}

/** The layer spec of an activation name, checked (names come from option files too). */
export function activationLayer(name: Activation): LayerSpec {
  if (!activations.includes(name)) throw unknownOption("activation", name, activations);
  return { type: name };
}

/**
 * The spec of a built layer, with every setting that changes what it computes written out (the
 * defaults too), so a model file describes its layers fully. Weight initialization is not part of
 * it (a file brings its weights). A layer of a class no spec type builds cannot be described.
 */
export function describeLayer(layer: Layer | MergeLayer): LayerSpec {
  if (layer instanceof Affine) return { type: "affine", outputSize: layer.W.value.shape[1] };
  if (layer instanceof Convolution) {
    const [filters, , fh, fw] = layer.W.value.shape;
    return { type: "convolution", filters, fh, fw, stride: layer.stride, pad: layer.pad };
  }
  if (layer instanceof Pooling) {
    const { ph, pw, stride, pad, kind } = layer;
    return { type: "pooling", ph, pw, stride, pad, kind };
  }
  if (layer instanceof Relu) return { type: "relu" };
  if (layer instanceof Sigmoid) return { type: "sigmoid" };
  if (layer instanceof Tanh) return { type: "tanh" };
  if (layer instanceof Flatten) return { type: "flatten" };
  if (layer instanceof Dropout) return { type: "dropout", ratio: layer.ratio, inverted: layer.inverted };
  if (layer instanceof BatchNormalization)
    return { type: "batchnorm", momentum: layer.momentum, eps: layer.eps };
  if (layer instanceof LRN)
    return { type: "lrn", k: layer.k, n: layer.n, alpha: layer.alpha, beta: layer.beta };
  if (layer instanceof Add) return { type: "add" };
  if (layer instanceof Concat) return { type: "concat" };
  if (layer instanceof GlobalAveragePooling) return { type: "global-average-pooling" };
  if (layer instanceof Deconvolution) {
    const [, filters, fh, fw] = layer.W.value.shape;
    const { stride, pad, outputPadding } = layer;
    return { type: "deconvolution", filters, fh, fw, stride, pad, outputPadding };
  }
  if (layer instanceof LeakyRelu) return { type: "leaky-relu", alpha: layer.alpha };
  if (layer instanceof Reshape) return { type: "reshape", shape: [...layer.shape] };
  throw new OptionError(
    `a ${layer.constructor.name} layer has no spec type (types: ${layerTypes.join(", ")}), so its network cannot be saved`,
  );
}
