import type { WeightInit } from "../init.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { shapeSize, type DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { activationLayer, buildLayers, type Activation, type LayerSpec } from "./layer-spec.js";
import { Sequential } from "./sequential.js";
import { specOptions } from "./spec.js";

export interface MultiLayerNetOptions {
  inputSize: number;
  /** The width of each hidden layer, e.g. [100, 100, 100, 100]. */
  hiddenSizeList: readonly number[];
  outputSize: number;
  /** Book default "relu". */
  activation?: Activation;
  /** A std, or "relu"/"he" (√(2/n)), "sigmoid"/"xavier" (√(1/n)); book default "relu". */
  weightInitStd?: WeightInit;
  /** L2 weight decay λ (book default 0). */
  weightDecayLambda?: number;
}

export type MultiLayerNetSpec = {
  kind: "multi-layer";
  inputShape: [number];
  outputSize: number;
  hiddenSizeList: number[];
  activation: Activation;
  weightInitStd: WeightInit;
  weightDecayLambda: number;
};

const specKeys = ["hiddenSizeList", "activation", "weightInitStd", "weightDecayLambda"] as const;

/**
 * The book's MultiLayerNet (§6.2, §6.4): (Affine → activation) per hidden layer, then Affine →
 * SoftmaxWithLoss, with L2 weight decay. Params W1, b1, …, W(L+1), b(L+1).
 */
export class MultiLayerNet extends Sequential {
  constructor(options: MultiLayerNetOptions, rng: Rng, dtype: DType = "float32") {
    const spec = multiLayerSpec(options);
    const layers: LayerSpec[] = [];
    for (const size of spec.hiddenSizeList) {
      layers.push({ type: "affine", outputSize: size, weightInit: spec.weightInitStd });
      layers.push(activationLayer(spec.activation));
    }
    layers.push({ type: "affine", outputSize: spec.outputSize, weightInit: spec.weightInitStd });
    const built = buildLayers(spec.inputShape, layers, rng, dtype);
    super(built.layers, new SoftmaxWithLoss(), { spec, weightDecayLambda: spec.weightDecayLambda });
  }

  static fromSpec(spec: MultiLayerNetSpec, rng: Rng, dtype: DType = "float32"): MultiLayerNet {
    const { inputShape, ...options } = specOptions(spec, "multi-layer", specKeys);
    return new MultiLayerNet({ inputSize: shapeSize(inputShape), ...options }, rng, dtype);
  }
}

/** The options with the book's defaults filled in, as a spec. */
export function multiLayerSpec(options: MultiLayerNetOptions): MultiLayerNetSpec {
  const {
    inputSize,
    hiddenSizeList,
    outputSize,
    activation = "relu",
    weightInitStd = "relu",
    weightDecayLambda = 0,
  } = options;
  return {
    kind: "multi-layer",
    inputShape: [inputSize],
    outputSize,
    hiddenSizeList: [...hiddenSizeList],
    activation,
    weightInitStd,
    weightDecayLambda,
  };
}
