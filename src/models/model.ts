import { unknownOption } from "../errors.js";
import type { Mode, Param } from "../layers/layer.js";
import type { DType, Labels, NDArray } from "../ndarray.js";
import type { Rng, RngState } from "../rng.js";
import { AlexNet, type AlexNetSpec } from "./alexnet.js";
import { DeepConvNet, type DeepConvNetSpec } from "./deep-conv-net.js";
import { LeNet, type LeNetSpec } from "./lenet.js";
import { MultiLayerNetExtend, type MultiLayerNetExtendSpec } from "./multi-layer-net-extend.js";
import { MultiLayerNet, type MultiLayerNetSpec } from "./multi-layer-net.js";
import { Sequential, type SequentialSpec } from "./sequential.js";
import { graphFromSpec, type GraphModelSpec } from "./graph.js";
import { GoogLeNet, type GoogLeNetSpec } from "./googlenet.js";
import { ResNet, type ResNetSpec } from "./resnet.js";
import { VGG, type VGGSpec } from "./vgg.js";
import { SimpleConvNet, type SimpleConvNetSpec } from "./simple-conv-net.js";
import { TwoLayerNet, type TwoLayerNetSpec } from "./two-layer-net.js";

/** A classifier the Trainer can train and the CLI can save, load and run. */
export interface Model {
  readonly params: readonly Param[];
  /** The params training updates, when some are frozen (transfer learning); default all of `params`. */
  readonly trainableParams?: readonly Param[];
  /** JSON-serializable architecture (saved in model files): `createModel(spec)` rebuilds it. */
  readonly spec: ModelSpec;
  /**
   * Scores (N, classes); "eval" by default (dropout off, batch norm on running statistics).
   * Refuses an input holding NaN or ±Infinity with a NonFiniteError.
   */
  predict(x: NDArray, mode?: Mode): NDArray;
  /** Forward incl. weight decay; "train" by default. */
  loss(x: NDArray, t: Labels, mode?: Mode): number;
  /** `loss` as a (1,) array, which a device backend keeps on the device until it is read. */
  lossArray?(x: NDArray, t: Labels, mode?: Mode): NDArray;
  /** After loss(): fills every param.grad. */
  backward(): void;
  /** The fraction of samples classified right, in eval mode, `batchSize` samples at a time. */
  accuracy(x: NDArray, t: Labels, batchSize?: number): number;
  /** Which layer the param called `name` belongs to, for messages ("layer 3 (Affine)"). */
  describeParam?(name: string): string | undefined;
  /** Names the first layer whose output for `x` holds a NaN or ±Infinity (after a non-finite loss). */
  locateNonFinite?(x: NDArray, mode?: Mode): string | undefined;
  /** The random generators' states that training advances (dropout), for checkpoints. */
  randomState?(): RngState[];
  setRandomState?(states: readonly RngState[]): void;
}

/** The classifiers `createModel` builds, by the `kind` of their spec. */
export const modelKinds = [
  "two-layer",
  "multi-layer",
  "multi-layer-extend",
  "simple-conv",
  "deep-conv",
  "lenet",
  "alexnet",
  "sequential",
  "graph",
  "vgg",
  "googlenet",
  "resnet",
] as const;
export type ModelKind = (typeof modelKinds)[number];

export type ModelSpec = {
  kind: ModelKind;
  /** One sample's shape, without the batch axis: [784] or [1, 28, 28]. */
  inputShape: number[];
  /** The number of classes. */
  outputSize: number;
  [option: string]: unknown;
};

/**
 * Rebuilds a model from its spec (e.g. read from a model file), with fresh weights from `rng`.
 * An unknown kind or option is an error that lists the valid ones.
 */
export function createModel(spec: ModelSpec, rng: Rng, dtype: DType = "float32"): Model {
  const kind: ModelKind = spec.kind;
  switch (kind) {
    case "two-layer":
      return TwoLayerNet.fromSpec(spec as TwoLayerNetSpec, rng, dtype);
    case "multi-layer":
      return MultiLayerNet.fromSpec(spec as MultiLayerNetSpec, rng, dtype);
    case "multi-layer-extend":
      return MultiLayerNetExtend.fromSpec(spec as MultiLayerNetExtendSpec, rng, dtype);
    case "simple-conv":
      return SimpleConvNet.fromSpec(spec as SimpleConvNetSpec, rng, dtype);
    case "deep-conv":
      return DeepConvNet.fromSpec(spec as DeepConvNetSpec, rng, dtype);
    case "lenet":
      return LeNet.fromSpec(spec as LeNetSpec, rng, dtype);
    case "alexnet":
      return AlexNet.fromSpec(spec as AlexNetSpec, rng, dtype);
    case "sequential":
      return Sequential.fromLayerSpecs(spec as SequentialSpec, rng, dtype);
    case "graph":
      return graphFromSpec(spec as GraphModelSpec, rng, dtype);
    case "vgg":
      return VGG.fromSpec(spec as VGGSpec, rng, dtype);
    case "googlenet":
      return GoogLeNet.fromSpec(spec as GoogLeNetSpec, rng, dtype);
    case "resnet":
      return ResNet.fromSpec(spec as ResNetSpec, rng, dtype);
    default: {
      const unknown: never = kind;
      throw unknownOption("model kind", unknown, modelKinds);
    }
  }
}
