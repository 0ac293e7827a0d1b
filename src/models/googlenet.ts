import { OptionError } from "../errors.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { Graph, buildGraphParts, type GraphSpec } from "./graph.js";
import { GraphBuilder } from "./graph-builder.js";
import { specOptions } from "./spec.js";

/**
 * One Inception block's widths, GoogLeNet's table order: the 1×1 branch, the 3×3 branch's 1×1
 * reduction and its 3×3, the 5×5 branch's reduction and its 5×5, the pooling branch's 1×1
 * projection. The block's output has c1 + c3 + c5 + proj channels.
 */
export type InceptionWidths = [c1: number, r3: number, c3: number, r5: number, c5: number, proj: number];

export interface GoogLeNetOptions {
  /** (C, H, W) of one sample (default [1, 28, 28]). */
  inputShape?: readonly number[];
  outputSize?: number;
  /** Filters of the 3×3 stem convolution (default 32). */
  stem?: number;
  /** Stages of Inception blocks, each after a 2×2 max pooling (default: 2 blocks at 14×14, 1 at 7×7). */
  stages?: readonly (readonly InceptionWidths[])[];
  /** Dropout before the Affine layer, the book's form (default 0.4, as GoogLeNet). */
  dropoutRatio?: number;
  weightDecayLambda?: number;
}

export type GoogLeNetSpec = {
  kind: "googlenet";
  inputShape: number[];
  outputSize: number;
  stem: number;
  stages: InceptionWidths[][];
  dropoutRatio: number;
  weightDecayLambda: number;
};

const specKeys = ["stem", "stages", "dropoutRatio", "weightDecayLambda"] as const;

const defaultStages: InceptionWidths[][] = [
  [
    [16, 16, 32, 8, 8, 8], // 64 channels
    [32, 32, 48, 8, 16, 16], // 112
  ],
  [[48, 24, 64, 8, 16, 16]], // 144
];

/**
 * A GoogLeNet-style network (book §8.2.2; Szegedy et al. 2014) sized for 28×28 images: a 3×3
 * convolution stem, then stages of Inception blocks, each stage after a 2×2 max pooling (28 → 14
 * → 7), global average pooling, dropout and one Affine layer. Each Inception block runs four
 * branches side by side and concatenates their channels: a 1×1 convolution; 1×1 → 3×3; 1×1 → 5×5
 * (the 1×1 convolutions reduce the channels first, GoogLeNet's trick for cheap wide blocks); and a
 * 3×3 max pooling → 1×1 projection. Every convolution is followed by a ReLU.
 *
 * Nodes: `stem`, `stage1.pool`, `stage1.inception1.1x1`, `….3x3.reduce`, `….3x3`, `….5x5.reduce`,
 * `….5x5`, `….pool`, `….pool.proj` (each convolution's ReLU is `<conv>.relu`), `stage1.inception1`
 * (the concatenation), `gap`, `dropout`, `fc`.
 */
export class GoogLeNet extends Graph {
  constructor(options: GoogLeNetOptions, rng: Rng, dtype: DType = "float32") {
    const spec: GoogLeNetSpec = {
      kind: "googlenet",
      inputShape: [...(options.inputShape ?? [1, 28, 28])],
      outputSize: options.outputSize ?? 10,
      stem: options.stem ?? 32,
      stages: (options.stages ?? defaultStages).map((stage) => stage.map((w) => [...w] as InceptionWidths)),
      dropoutRatio: options.dropoutRatio ?? 0.4,
      weightDecayLambda: options.weightDecayLambda ?? 0,
    };
    super(buildGraphParts(googLeNetGraph(spec), rng, dtype), {
      spec,
      weightDecayLambda: spec.weightDecayLambda,
    });
  }

  static fromSpec(spec: GoogLeNetSpec, rng: Rng, dtype: DType = "float32"): GoogLeNet {
    return new GoogLeNet(specOptions(spec, "googlenet", specKeys), rng, dtype);
  }
}

/** Appends an Inception block named `name` reading `x`; returns the concatenation's name. */
export function inception(g: GraphBuilder, name: string, x: string, widths: InceptionWidths): string {
  const [c1, r3, c3, r5, c5, proj] = widths;
  const branch1 = g.convRelu(`${name}.1x1`, x, c1, 1);
  const branch2 = g.convRelu(`${name}.3x3`, g.convRelu(`${name}.3x3.reduce`, x, r3, 1), c3, 3);
  const branch3 = g.convRelu(`${name}.5x5`, g.convRelu(`${name}.5x5.reduce`, x, r5, 1), c5, 5);
  const pooled = g.add(`${name}.pool`, { type: "pooling", ph: 3, pw: 3, stride: 1, pad: 1 }, x);
  const branch4 = g.convRelu(`${name}.pool.proj`, pooled, proj, 1);
  return g.add(name, { type: "concat" }, [branch1, branch2, branch3, branch4]);
}

/** The graph of a GoogLeNet spec. */
export function googLeNetGraph(spec: GoogLeNetSpec): GraphSpec {
  const valid = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!valid(spec.stem))
    throw new OptionError(`GoogLeNet: stem must be a positive integer, got ${spec.stem}`);
  if (
    !Array.isArray(spec.stages) ||
    spec.stages.length === 0 ||
    !spec.stages.every(
      (s) =>
        Array.isArray(s) &&
        s.length > 0 &&
        s.every((w) => Array.isArray(w) && w.length === 6 && w.every(valid)),
    )
  ) {
    throw new OptionError(
      `GoogLeNet: stages must be lists of Inception blocks, each 6 positive widths [1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj], got ${JSON.stringify(spec.stages)}`,
    );
  }
  const g = new GraphBuilder({ x: spec.inputShape });
  let h = g.convRelu("stem", "x", spec.stem, 3);
  spec.stages.forEach((blocks, s) => {
    h = g.add(`stage${s + 1}.pool`, { type: "pooling", ph: 2, pw: 2, stride: 2 }, h);
    blocks.forEach((widths, b) => (h = inception(g, `stage${s + 1}.inception${b + 1}`, h, widths)));
  });
  g.add("gap", { type: "global-average-pooling" }, h);
  g.add("dropout", { type: "dropout", ratio: spec.dropoutRatio }, "gap");
  g.add("fc", { type: "affine", outputSize: spec.outputSize }, "dropout");
  return g.spec({ weightDecayLambda: spec.weightDecayLambda });
}
