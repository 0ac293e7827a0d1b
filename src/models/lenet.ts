import { OptionError } from "../errors.js";
import type { WeightInit } from "../init.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { buildLayers } from "./layer-spec.js";
import { Sequential } from "./sequential.js";
import { specOptions } from "./spec.js";

export interface LeNetOptions {
  /** (C, H, W) of one sample (default [1, 28, 28]). */
  inputShape?: readonly number[];
  /** The two convolutions' filter counts (LeNet-5: 6, 16). */
  filters?: readonly number[];
  /** The two hidden Affine widths (LeNet-5: 120, 84). */
  hiddenSizes?: readonly number[];
  outputSize?: number;
  /** Default "sigmoid" (Xavier), suited to the sigmoid units. */
  weightInitStd?: WeightInit;
  weightDecayLambda?: number;
}

export type LeNetSpec = {
  kind: "lenet";
  inputShape: number[];
  outputSize: number;
  filters: number[];
  hiddenSizes: number[];
  weightInitStd: WeightInit;
  weightDecayLambda: number;
};

const specKeys = ["filters", "hiddenSizes", "weightInitStd", "weightDecayLambda"] as const;

/**
 * LeNet (LeCun et al. 1998; book §7.7.1), the way the book contrasts it with today's CNNs: sigmoid
 * units and subsampling (2×2 average pooling) instead of ReLU and max pooling.
 * conv 6@5×5 (pad 2, so 28×28 stays 28×28, as LeNet's 32×32 input did) → sigmoid → avg-pool →
 * conv 16@5×5 → sigmoid → avg-pool → Affine 120 → sigmoid → Affine 84 → sigmoid → Affine 10.
 */
export class LeNet extends Sequential {
  constructor(options: LeNetOptions, rng: Rng, dtype: DType = "float32") {
    const spec: LeNetSpec = {
      kind: "lenet",
      inputShape: [...(options.inputShape ?? [1, 28, 28])],
      outputSize: options.outputSize ?? 10,
      filters: [...(options.filters ?? [6, 16])],
      hiddenSizes: [...(options.hiddenSizes ?? [120, 84])],
      weightInitStd: options.weightInitStd ?? "sigmoid",
      weightDecayLambda: options.weightDecayLambda ?? 0,
    };
    if (spec.filters.length !== 2 || spec.hiddenSizes.length !== 2) {
      throw new OptionError(
        `LeNet: needs 2 filter counts and 2 hidden sizes, got filters [${spec.filters}] and hiddenSizes [${spec.hiddenSizes}]`,
      );
    }
    const init = spec.weightInitStd;
    const subsample = { type: "pooling", ph: 2, pw: 2, stride: 2, kind: "avg" } as const;
    const { layers } = buildLayers(
      spec.inputShape,
      [
        { type: "convolution", filters: spec.filters[0], fh: 5, fw: 5, pad: 2, weightInit: init },
        { type: "sigmoid" },
        subsample,
        { type: "convolution", filters: spec.filters[1], fh: 5, fw: 5, weightInit: init },
        { type: "sigmoid" },
        subsample,
        { type: "affine", outputSize: spec.hiddenSizes[0], weightInit: init },
        { type: "sigmoid" },
        { type: "affine", outputSize: spec.hiddenSizes[1], weightInit: init },
        { type: "sigmoid" },
        { type: "affine", outputSize: spec.outputSize, weightInit: init },
      ],
      rng,
      dtype,
    );
    super(layers, new SoftmaxWithLoss(), { spec, weightDecayLambda: spec.weightDecayLambda });
  }

  static fromSpec(spec: LeNetSpec, rng: Rng, dtype: DType = "float32"): LeNet {
    return new LeNet(specOptions(spec, "lenet", specKeys), rng, dtype);
  }
}
