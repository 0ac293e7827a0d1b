import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import { shapeSize, type DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { activationLayer, buildLayers, type LayerSpec } from "./layer-spec.js";
import { multiLayerSpec, type MultiLayerNetOptions, type MultiLayerNetSpec } from "./multi-layer-net.js";
import { Sequential } from "./sequential.js";
import { specOptions } from "./spec.js";

export interface MultiLayerNetExtendOptions extends MultiLayerNetOptions {
  /** Batch normalization after each hidden Affine (book default false). */
  useBatchnorm?: boolean;
  /** Dropout after each hidden activation (book default false). */
  useDropout?: boolean;
  /** The fraction dropped (book default 0.5). */
  dropoutRatio?: number;
}

export type MultiLayerNetExtendSpec = Omit<MultiLayerNetSpec, "kind"> & {
  kind: "multi-layer-extend";
  useBatchnorm: boolean;
  useDropout: boolean;
  dropoutRatio: number;
};

const specKeys = [
  "hiddenSizeList",
  "activation",
  "weightInitStd",
  "weightDecayLambda",
  "useBatchnorm",
  "useDropout",
  "dropoutRatio",
] as const;

/**
 * The book's MultiLayerNetExtend (§6.3, §6.4): MultiLayerNet with, per hidden layer,
 * Affine → [BatchNormalization] → activation → [Dropout]. Params W1, b1, gamma1, beta1, …
 * Dropout is the book's form (scaled at test time).
 */
export class MultiLayerNetExtend extends Sequential {
  constructor(options: MultiLayerNetExtendOptions, rng: Rng, dtype: DType = "float32") {
    const { useBatchnorm = false, useDropout = false, dropoutRatio = 0.5 } = options;
    const spec: MultiLayerNetExtendSpec = {
      ...multiLayerSpec(options),
      kind: "multi-layer-extend",
      useBatchnorm,
      useDropout,
      dropoutRatio,
    };
    const layers: LayerSpec[] = [];
    for (const size of spec.hiddenSizeList) {
      layers.push({ type: "affine", outputSize: size, weightInit: spec.weightInitStd });
      if (useBatchnorm) layers.push({ type: "batchnorm" });
      layers.push(activationLayer(spec.activation));
      if (useDropout) layers.push({ type: "dropout", ratio: dropoutRatio });
    }
    layers.push({ type: "affine", outputSize: spec.outputSize, weightInit: spec.weightInitStd });
    const built = buildLayers(spec.inputShape, layers, rng, dtype);
    super(built.layers, new SoftmaxWithLoss(), { spec, weightDecayLambda: spec.weightDecayLambda });
  }

  static fromSpec(spec: MultiLayerNetExtendSpec, rng: Rng, dtype: DType = "float32"): MultiLayerNetExtend {
    const { inputShape, ...options } = specOptions(spec, "multi-layer-extend", specKeys);
    return new MultiLayerNetExtend({ inputSize: shapeSize(inputShape), ...options }, rng, dtype);
  }
}
