import { OptionError } from "../errors.js";
import type { WeightInit } from "../init.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { buildLayers, type LayerSpec } from "./layer-spec.js";
import { Sequential } from "./sequential.js";
import { specOptions } from "./spec.js";

export interface DeepConvNetOptions {
  /** (C, H, W) of one sample (book default [1, 28, 28]). */
  inputShape?: readonly number[];
  /** The six convolutions' filter counts (book: 16, 16, 32, 32, 64, 64). */
  filters?: readonly number[];
  /** The six convolutions' padding (book: 1, 1, 1, 2, 1, 1; all filters are 3×3, stride 1). */
  pads?: readonly number[];
  hiddenSize?: number;
  outputSize?: number;
  dropoutRatio?: number;
  /** Book: He ("relu"), from each layer's fan-in. */
  weightInitStd?: WeightInit;
  weightDecayLambda?: number;
}

export type DeepConvNetSpec = {
  kind: "deep-conv";
  inputShape: number[];
  outputSize: number;
  filters: number[];
  pads: number[];
  hiddenSize: number;
  dropoutRatio: number;
  weightInitStd: WeightInit;
  weightDecayLambda: number;
};

const specKeys = [
  "filters",
  "pads",
  "hiddenSize",
  "dropoutRatio",
  "weightInitStd",
  "weightDecayLambda",
] as const;

/**
 * The book's DeepConvNet (§8.1): three blocks of conv 3×3 → ReLU → conv 3×3 → ReLU → max-pool
 * 2×2/2, then Affine → ReLU → Dropout → Affine → Dropout → SoftmaxWithLoss, He-initialized.
 * On 28×28 input: 28 → 14 → (conv4's pad 2) 16 → 8 → 4, so the first Affine sees 64·4·4.
 * Params W1…W8, b1…b8 (six convolutions, two Affines).
 */
export class DeepConvNet extends Sequential {
  constructor(options: DeepConvNetOptions, rng: Rng, dtype: DType = "float32") {
    const spec: DeepConvNetSpec = {
      kind: "deep-conv",
      inputShape: [...(options.inputShape ?? [1, 28, 28])],
      outputSize: options.outputSize ?? 10,
      filters: [...(options.filters ?? [16, 16, 32, 32, 64, 64])],
      pads: [...(options.pads ?? [1, 1, 1, 2, 1, 1])],
      hiddenSize: options.hiddenSize ?? 50,
      dropoutRatio: options.dropoutRatio ?? 0.5,
      weightInitStd: options.weightInitStd ?? "relu",
      weightDecayLambda: options.weightDecayLambda ?? 0,
    };
    for (const key of ["filters", "pads"] as const) {
      if (spec[key].length !== 6) {
        throw new OptionError(
          `DeepConvNet: ${key} needs one value per convolution (6), got ${spec[key].length}`,
        );
      }
    }
    const init = spec.weightInitStd;
    const layers: LayerSpec[] = [];
    spec.filters.forEach((filters, i) => {
      layers.push({
        type: "convolution",
        filters,
        fh: 3,
        fw: 3,
        stride: 1,
        pad: spec.pads[i],
        weightInit: init,
      });
      layers.push({ type: "relu" });
      if (i % 2 === 1) layers.push({ type: "pooling", ph: 2, pw: 2, stride: 2 });
    });
    layers.push(
      { type: "affine", outputSize: spec.hiddenSize, weightInit: init },
      { type: "relu" },
      { type: "dropout", ratio: spec.dropoutRatio },
      { type: "affine", outputSize: spec.outputSize, weightInit: init },
      { type: "dropout", ratio: spec.dropoutRatio },
    );
    const built = buildLayers(spec.inputShape, layers, rng, dtype);
    super(built.layers, new SoftmaxWithLoss(), { spec, weightDecayLambda: spec.weightDecayLambda });
  }

  static fromSpec(spec: DeepConvNetSpec, rng: Rng, dtype: DType = "float32"): DeepConvNet {
    return new DeepConvNet(specOptions(spec, "deep-conv", specKeys), rng, dtype);
  }
}
