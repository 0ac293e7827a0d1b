import { OptionError } from "../errors.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { Graph, buildGraphParts, type GraphSpec } from "./graph.js";
import { GraphBuilder } from "./graph-builder.js";
import { specOptions } from "./spec.js";

export interface VGGOptions {
  /** (C, H, W) of one sample (default [1, 28, 28]). */
  inputShape?: readonly number[];
  outputSize?: number;
  /** Filters of each stage's convolutions (default 16, 32, 64); each stage ends in a 2×2 max pool. */
  widths?: readonly number[];
  /** 3×3 convolutions per stage (default 2). */
  convsPerStage?: number;
  /** Units of the hidden Affine layer (default 128). */
  hiddenSize?: number;
  /** Dropout after the hidden layer, the book's form (default 0.5). */
  dropoutRatio?: number;
  weightDecayLambda?: number;
}

export type VGGSpec = {
  kind: "vgg";
  inputShape: number[];
  outputSize: number;
  widths: number[];
  convsPerStage: number;
  hiddenSize: number;
  dropoutRatio: number;
  weightDecayLambda: number;
};

const specKeys = ["widths", "convsPerStage", "hiddenSize", "dropoutRatio", "weightDecayLambda"] as const;

/**
 * A VGG-style network (book §8.2.1; Simonyan & Zisserman 2014) sized for 28×28 images: stages of
 * 3×3 convolutions with ReLU ("same" padding), each stage ending in a 2×2 max pooling that halves
 * H and W (28 → 14 → 7 → 3), then Affine → ReLU → Dropout → Affine. He-initialized.
 *
 * Nodes are named `stage1.conv1`, `stage1.conv1.relu`, `stage1.pool`, `fc1`, `fc1.relu`,
 * `fc1.dropout`, `fc2`; every convolution is fused with its ReLU (and pooling) when run.
 */
export class VGG extends Graph {
  constructor(options: VGGOptions, rng: Rng, dtype: DType = "float32") {
    const spec: VGGSpec = {
      kind: "vgg",
      inputShape: [...(options.inputShape ?? [1, 28, 28])],
      outputSize: options.outputSize ?? 10,
      widths: [...(options.widths ?? [16, 32, 64])],
      convsPerStage: options.convsPerStage ?? 2,
      hiddenSize: options.hiddenSize ?? 128,
      dropoutRatio: options.dropoutRatio ?? 0.5,
      weightDecayLambda: options.weightDecayLambda ?? 0,
    };
    super(buildGraphParts(vggGraph(spec), rng, dtype), { spec, weightDecayLambda: spec.weightDecayLambda });
  }

  static fromSpec(spec: VGGSpec, rng: Rng, dtype: DType = "float32"): VGG {
    return new VGG(specOptions(spec, "vgg", specKeys), rng, dtype);
  }
}

/** The graph of a VGG spec. */
export function vggGraph(spec: VGGSpec): GraphSpec {
  if (spec.widths.length === 0 || !spec.widths.every((w) => Number.isInteger(w) && w > 0)) {
    throw new OptionError(
      `VGG: widths must be positive integers, one per stage, got ${JSON.stringify(spec.widths)}`,
    );
  }
  if (!Number.isInteger(spec.convsPerStage) || spec.convsPerStage < 1) {
    throw new OptionError(`VGG: convsPerStage must be a positive integer, got ${spec.convsPerStage}`);
  }
  const g = new GraphBuilder({ x: spec.inputShape });
  let h = "x";
  spec.widths.forEach((width, s) => {
    for (let c = 0; c < spec.convsPerStage; c++) h = g.convRelu(`stage${s + 1}.conv${c + 1}`, h, width, 3);
    h = g.add(`stage${s + 1}.pool`, { type: "pooling", ph: 2, pw: 2, stride: 2 }, h);
  });
  h = g.add("fc1.relu", { type: "relu" }, g.add("fc1", { type: "affine", outputSize: spec.hiddenSize }, h));
  h = g.add("fc1.dropout", { type: "dropout", ratio: spec.dropoutRatio }, h);
  g.add("fc2", { type: "affine", outputSize: spec.outputSize }, h);
  return g.spec({ weightDecayLambda: spec.weightDecayLambda });
}
