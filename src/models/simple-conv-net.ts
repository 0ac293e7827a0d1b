import type { WeightInit } from "../init.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { buildLayers } from "./layer-spec.js";
import { Sequential } from "./sequential.js";
import { specOptions } from "./spec.js";

/** The book's `conv_param` keys appear flat here: filterNum, filterSize, pad, stride. */
export interface SimpleConvNetOptions {
  /** (C, H, W) of one sample (book default [1, 28, 28]). */
  inputShape?: readonly number[];
  filterNum?: number;
  filterSize?: number;
  pad?: number;
  stride?: number;
  hiddenSize?: number;
  outputSize?: number;
  weightInitStd?: WeightInit;
  weightDecayLambda?: number;
}

export type SimpleConvNetSpec = {
  kind: "simple-conv";
  inputShape: number[];
  outputSize: number;
  filterNum: number;
  filterSize: number;
  pad: number;
  stride: number;
  hiddenSize: number;
  weightInitStd: WeightInit;
  weightDecayLambda: number;
};

const specKeys = [
  "filterNum",
  "filterSize",
  "pad",
  "stride",
  "hiddenSize",
  "weightInitStd",
  "weightDecayLambda",
] as const;

/**
 * The book's SimpleConvNet (§7.5): Convolution → ReLU → Pooling (2×2, stride 2) → Affine → ReLU →
 * Affine → SoftmaxWithLoss. Defaults as the book: 30 filters of 5×5, pad 0, stride 1, 100 hidden
 * units, weights N(0, 0.01²). Params W1, b1 (convolution), W2, b2, W3, b3.
 */
export class SimpleConvNet extends Sequential {
  constructor(options: SimpleConvNetOptions, rng: Rng, dtype: DType = "float32") {
    const spec: SimpleConvNetSpec = {
      kind: "simple-conv",
      inputShape: [...(options.inputShape ?? [1, 28, 28])],
      outputSize: options.outputSize ?? 10,
      filterNum: options.filterNum ?? 30,
      filterSize: options.filterSize ?? 5,
      pad: options.pad ?? 0,
      stride: options.stride ?? 1,
      hiddenSize: options.hiddenSize ?? 100,
      weightInitStd: options.weightInitStd ?? 0.01,
      weightDecayLambda: options.weightDecayLambda ?? 0,
    };
    const init = spec.weightInitStd;
    const { layers } = buildLayers(
      spec.inputShape,
      [
        {
          type: "convolution",
          filters: spec.filterNum,
          fh: spec.filterSize,
          fw: spec.filterSize,
          stride: spec.stride,
          pad: spec.pad,
          weightInit: init,
        },
        { type: "relu" },
        { type: "pooling", ph: 2, pw: 2, stride: 2 },
        { type: "affine", outputSize: spec.hiddenSize, weightInit: init },
        { type: "relu" },
        { type: "affine", outputSize: spec.outputSize, weightInit: init },
      ],
      rng,
      dtype,
    );
    super(layers, new SoftmaxWithLoss(), { spec, weightDecayLambda: spec.weightDecayLambda });
  }

  static fromSpec(spec: SimpleConvNetSpec, rng: Rng, dtype: DType = "float32"): SimpleConvNet {
    return new SimpleConvNet(specOptions(spec, "simple-conv", specKeys), rng, dtype);
  }
}
