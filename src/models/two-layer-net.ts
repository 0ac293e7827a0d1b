import { shapeSize, type DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { activationLayer, buildLayers } from "./layer-spec.js";
import { Sequential } from "./sequential.js";
import { specOptions } from "./spec.js";

export interface TwoLayerNetOptions {
  inputSize: number;
  hiddenSize: number;
  outputSize: number;
  /** The std of the initial weights (book default 0.01). */
  weightInitStd?: number;
  /** "relu" as in chapter 5 (default), "sigmoid" as in chapter 4. */
  activation?: "relu" | "sigmoid";
}

export type TwoLayerNetSpec = {
  kind: "two-layer";
  inputShape: [number];
  outputSize: number;
  hiddenSize: number;
  weightInitStd: number;
  activation: "relu" | "sigmoid";
};

/**
 * The book's TwoLayerNet (§4.5, §5.7): Affine → activation → Affine → SoftmaxWithLoss, with both
 * `numericalGradient(x, t)` and the backprop `gradient(x, t)` (from Sequential). Params W1, b1,
 * W2, b2.
 *
 * Book: `TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01)`; here the sizes
 * come in one options object, with the Rng and dtype that every model takes.
 */
export class TwoLayerNet extends Sequential {
  constructor(options: TwoLayerNetOptions, rng: Rng, dtype: DType = "float32") {
    const { inputSize, hiddenSize, outputSize, weightInitStd = 0.01, activation = "relu" } = options;
    const { layers } = buildLayers(
      [inputSize],
      [
        { type: "affine", outputSize: hiddenSize, weightInit: weightInitStd },
        activationLayer(activation),
        { type: "affine", outputSize, weightInit: weightInitStd },
      ],
      rng,
      dtype,
    );
    const spec: TwoLayerNetSpec = {
      kind: "two-layer",
      inputShape: [inputSize],
      outputSize,
      hiddenSize,
      weightInitStd,
      activation,
    };
    super(layers, new SoftmaxWithLoss(), { spec });
  }

  static fromSpec(spec: TwoLayerNetSpec, rng: Rng, dtype: DType = "float32"): TwoLayerNet {
    const { inputShape, ...options } = specOptions(spec, "two-layer", [
      "hiddenSize",
      "weightInitStd",
      "activation",
    ]);
    return new TwoLayerNet({ inputSize: shapeSize(inputShape), ...options }, rng, dtype);
  }
}
