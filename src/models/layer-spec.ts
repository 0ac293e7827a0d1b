import { ShapeError, formatShape, unknownOption } from "../errors.js";
import { convFanIn, initWeights, type WeightInit } from "../init.js";
import { Affine } from "../layers/affine.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import { Convolution } from "../layers/convolution.js";
import { Deconvolution } from "../layers/deconvolution.js";
import { Dropout } from "../layers/dropout.js";
import { Flatten } from "../layers/flatten.js";
import type { Layer } from "../layers/layer.js";
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
  "deconvolution",
  "leaky-relu",
  "reshape",
];

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
    switch (spec.type) {
      case "affine": {
        // An N-D input is flattened by Affine, so every value is an input of each unit.
        const fanIn = shapeSize(shape);
        const W = initWeights([fanIn, spec.outputSize], spec.weightInit ?? defaultInit, fanIn, rng, dtype);
        layers.push(new Affine(W, NDArray.zeros([spec.outputSize], dtype)));
        shape = [spec.outputSize];
        break;
      }
      case "convolution": {
        if (shape.length !== 3) {
          throw new ShapeError(`${where}: needs (C, H, W) samples, got ${formatShape(shape)}`);
        }
        const [C, H, W] = shape;
        const { filters, fh, fw, stride = 1, pad = 0 } = spec;
        const weights = initWeights(
          [filters, C, fh, fw],
          spec.weightInit ?? defaultInit,
          convFanIn(C, fh, fw),
          rng,
          dtype,
        );
        layers.push(new Convolution(weights, NDArray.zeros([filters], dtype), { stride, pad }));
        shape = [filters, convOutputSize(H, fh, stride, pad, "H"), convOutputSize(W, fw, stride, pad, "W")];
        break;
      }
      case "pooling": {
        if (shape.length !== 3) {
          throw new ShapeError(`${where}: needs (C, H, W) samples, got ${formatShape(shape)}`);
        }
        const pool = new Pooling(spec);
        shape = pool.outputShape([1, ...shape]).slice(1);
        layers.push(pool);
        break;
      }
      case "relu":
        layers.push(new Relu());
        break;
      case "sigmoid":
        layers.push(new Sigmoid());
        break;
      case "tanh":
        layers.push(new Tanh());
        break;
      case "flatten":
        layers.push(new Flatten());
        shape = [shapeSize(shape)];
        break;
      case "dropout":
        layers.push(new Dropout(rng.split(), { ratio: spec.ratio, inverted: spec.inverted }));
        break;
      case "batchnorm": {
        // Per activation for (D,) samples, per channel for (C, H, W) samples.
        if (shape.length !== 1 && shape.length !== 3) {
          throw new ShapeError(`${where}: needs (D,) or (C, H, W) samples, got ${formatShape(shape)}`);
        }
        const features = shape[0];
        const gamma = NDArray.full([features], 1, dtype);
        layers.push(
          new BatchNormalization(gamma, NDArray.zeros([features], dtype), {
            momentum: spec.momentum,
            eps: spec.eps,
          }),
        );
        break;
      }
      case "lrn":
        if (shape.length !== 3) {
          throw new ShapeError(`${where}: needs (C, H, W) samples, got ${formatShape(shape)}`);
        }
        layers.push(new LRN(spec));
        break;
      case "deconvolution": {
        if (shape.length !== 3) {
          throw new ShapeError(`${where}: needs (C, H, W) samples, got ${formatShape(shape)}`);
        }
        const [C, H, W] = shape;
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
        layers.push(
          new Deconvolution(weights, NDArray.zeros([filters], dtype), { stride, pad, outputPadding }),
        );
        shape = [
          filters,
          deconvOutputSize(H, fh, stride, pad, outputPadding, "H"),
          deconvOutputSize(W, fw, stride, pad, outputPadding, "W"),
        ];
        break;
      }
      case "leaky-relu":
        layers.push(new LeakyRelu({ alpha: spec.alpha }));
        break;
      case "reshape": {
        const reshape = new Reshape(spec.shape);
        if (shapeSize(reshape.shape) !== shapeSize(shape)) {
          throw new ShapeError(
            `${where}: cannot hold ${formatShape(shape)} samples (${shapeSize(shape)} values) as ${formatShape(reshape.shape)}`,
          );
        }
        layers.push(reshape);
        shape = [...reshape.shape];
        break;
      }
      default: {
        const unknown: never = spec;
        throw unknownOption("layer type", (unknown as { type: unknown }).type, layerTypes);
      }
    }
  });
  return { layers, outputShape: shape };
}

/** The layer spec of an activation name, checked (names come from option files too). */
export function activationLayer(name: Activation): LayerSpec {
  if (!activations.includes(name)) throw unknownOption("activation", name, activations);
  return { type: name };
}
