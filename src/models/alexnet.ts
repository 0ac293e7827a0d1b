import { OptionError } from "../errors.js";
import type { WeightInit } from "../init.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { buildLayers, type LayerSpec } from "./layer-spec.js";
import { Sequential } from "./sequential.js";
import { specOptions } from "./spec.js";

export interface AlexNetOptions {
  /** (C, H, W) of one sample (default [1, 28, 28]). */
  inputShape?: readonly number[];
  /** The five convolutions' filter counts (default 24, 48, 64, 64, 48). */
  filters?: readonly number[];
  /** The two hidden Affine widths (default 256, 256). */
  hiddenSizes?: readonly number[];
  outputSize?: number;
  dropoutRatio?: number;
  /** Default He ("relu"). */
  weightInitStd?: WeightInit;
  weightDecayLambda?: number;
}

export type AlexNetSpec = {
  kind: "alexnet";
  inputShape: number[];
  outputSize: number;
  filters: number[];
  hiddenSizes: number[];
  dropoutRatio: number;
  weightInitStd: WeightInit;
  weightDecayLambda: number;
};

const specKeys = ["filters", "hiddenSizes", "dropoutRatio", "weightInitStd", "weightDecayLambda"] as const;

/**
 * A small AlexNet-style network for 28×28 images (book §7.7.2 describes AlexNet; it has no code):
 * AlexNet's ingredients — ReLU, local response normalization, max pooling (the last one
 * overlapping, 3×3 with stride 2), five convolutions and dropout in the fully connected layers —
 * at a size a CPU trains on MNIST:
 *   conv 5×5 → ReLU → LRN → pool 2/2 (28 → 14) → conv 3×3 → ReLU → LRN → pool 2/2 (→ 7) →
 *   3 × (conv 3×3 → ReLU) → pool 3/2 (→ 3) → (Affine → ReLU → Dropout) × 2 → Affine.
 */
export class AlexNet extends Sequential {
  constructor(options: AlexNetOptions, rng: Rng, dtype: DType = "float32") {
    const spec: AlexNetSpec = {
      kind: "alexnet",
      inputShape: [...(options.inputShape ?? [1, 28, 28])],
      outputSize: options.outputSize ?? 10,
      filters: [...(options.filters ?? [24, 48, 64, 64, 48])],
      hiddenSizes: [...(options.hiddenSizes ?? [256, 256])],
      dropoutRatio: options.dropoutRatio ?? 0.5,
      weightInitStd: options.weightInitStd ?? "relu",
      weightDecayLambda: options.weightDecayLambda ?? 0,
    };
    if (spec.filters.length !== 5 || spec.hiddenSizes.length !== 2) {
      throw new OptionError(
        `AlexNet: needs 5 filter counts and 2 hidden sizes, got filters [${spec.filters}] and hiddenSizes [${spec.hiddenSizes}]`,
      );
    }
    const init = spec.weightInitStd;
    const [f1, f2, f3, f4, f5] = spec.filters;
    const conv3x3 = (filters: number): LayerSpec[] => [
      { type: "convolution", filters, fh: 3, fw: 3, pad: 1, weightInit: init },
      { type: "relu" },
    ];
    const layers: LayerSpec[] = [
      { type: "convolution", filters: f1, fh: 5, fw: 5, pad: 2, weightInit: init },
      { type: "relu" },
      { type: "lrn" },
      { type: "pooling", ph: 2, pw: 2, stride: 2 },
      ...conv3x3(f2),
      { type: "lrn" },
      { type: "pooling", ph: 2, pw: 2, stride: 2 },
      ...conv3x3(f3),
      ...conv3x3(f4),
      ...conv3x3(f5),
      { type: "pooling", ph: 3, pw: 3, stride: 2 },
    ];
    for (const size of spec.hiddenSizes) {
      layers.push(
        { type: "affine", outputSize: size, weightInit: init },
        { type: "relu" },
        { type: "dropout", ratio: spec.dropoutRatio },
      );
    }
    layers.push({ type: "affine", outputSize: spec.outputSize, weightInit: init });
    const built = buildLayers(spec.inputShape, layers, rng, dtype);
    super(built.layers, new SoftmaxWithLoss(), { spec, weightDecayLambda: spec.weightDecayLambda });
  }

  static fromSpec(spec: AlexNetSpec, rng: Rng, dtype: DType = "float32"): AlexNet {
    return new AlexNet(specOptions(spec, "alexnet", specKeys), rng, dtype);
  }
}
