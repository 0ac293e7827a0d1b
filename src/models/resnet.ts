import { OptionError } from "../errors.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { Graph, buildGraphParts, type GraphSpec } from "./graph.js";
import { GraphBuilder } from "./graph-builder.js";
import { specOptions } from "./spec.js";

export interface ResNetOptions {
  /** (C, H, W) of one sample (default [1, 28, 28]). */
  inputShape?: readonly number[];
  outputSize?: number;
  /** Channels of each stage (default 16, 32, 64); every stage after the first halves H and W. */
  widths?: readonly number[];
  /** Basic blocks per stage (default 2, 2, 2: with the stem and the Affine, 14 layers). */
  blocks?: readonly number[];
  /**
   * With skips (default true) each block adds its input to its output; false builds the "plain"
   * network of the same depth, the comparison of the ResNet paper and the book (§8.2.4).
   */
  skips?: boolean;
  weightDecayLambda?: number;
}

export type ResNetSpec = {
  kind: "resnet";
  inputShape: number[];
  outputSize: number;
  widths: number[];
  blocks: number[];
  skips: boolean;
  weightDecayLambda: number;
};

const specKeys = ["widths", "blocks", "skips", "weightDecayLambda"] as const;

/** Batch norm as in the ResNet paper and PyTorch: eps 1e-5; the book's momentum 0.9 (PyTorch's 0.1). */
const BN = { type: "batchnorm", momentum: 0.9, eps: 1e-5 } as const;

/**
 * The book's ResNet (§8.2.4; He et al. 2015) sized for 28×28 images, as in the paper's CIFAR
 * networks: a 3×3 convolution stem, stages of basic blocks (3×3 conv → batch norm → ReLU → 3×3 conv
 * → batch norm, plus the block's input, then ReLU), global average pooling and one Affine layer.
 * Where a block changes the size (stride 2) or the channels, its shortcut is a projection (1×1
 * convolution, stride 2, and batch norm: the paper's option B); elsewhere it is the identity.
 * Defaults: 16/32/64 channels, 2 blocks per stage, 28 → 28 → 14 → 7.
 *
 * Nodes are named `stem`, `stage2.block1.conv1`, `stage2.block1.bn1`, `stage2.block1.proj`, …,
 * `gap`, `fc`; params `stem.W`, `stage1.block1.bn1.gamma`, ….
 */
export class ResNet extends Graph {
  constructor(options: ResNetOptions, rng: Rng, dtype: DType = "float32") {
    const spec: ResNetSpec = {
      kind: "resnet",
      inputShape: [...(options.inputShape ?? [1, 28, 28])],
      outputSize: options.outputSize ?? 10,
      widths: [...(options.widths ?? [16, 32, 64])],
      blocks: [...(options.blocks ?? [2, 2, 2])],
      skips: options.skips ?? true,
      weightDecayLambda: options.weightDecayLambda ?? 0,
    };
    super(buildGraphParts(resNetGraph(spec), rng, dtype), {
      spec,
      weightDecayLambda: spec.weightDecayLambda,
    });
  }

  static fromSpec(spec: ResNetSpec, rng: Rng, dtype: DType = "float32"): ResNet {
    return new ResNet(specOptions(spec, "resnet", specKeys), rng, dtype);
  }
}

/** The graph of a ResNet spec. */
export function resNetGraph(spec: ResNetSpec): GraphSpec {
  const { widths, blocks } = spec;
  if (widths.length === 0 || widths.length !== blocks.length) {
    throw new OptionError(
      `ResNet: widths and blocks need one value per stage, got ${widths.length} widths and ${blocks.length} block counts`,
    );
  }
  for (const [what, list] of [
    ["widths", widths],
    ["blocks", blocks],
  ] as const) {
    if (!list.every((v) => Number.isInteger(v) && v > 0)) {
      throw new OptionError(`ResNet: ${what} must be positive integers, got ${JSON.stringify(list)}`);
    }
  }
  const g = new GraphBuilder({ x: spec.inputShape });
  let h = g.add("stem.relu", { type: "relu" }, g.add("stem.bn", BN, g.conv("stem", "x", widths[0], 3)));
  let channels = widths[0];
  widths.forEach((width, s) => {
    for (let b = 0; b < blocks[s]; b++) {
      const name = `stage${s + 1}.block${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      const conv1 = g.conv(`${name}.conv1`, h, width, 3, { stride });
      const a = g.add(`${name}.relu1`, { type: "relu" }, g.add(`${name}.bn1`, BN, conv1));
      let y = g.add(`${name}.bn2`, BN, g.conv(`${name}.conv2`, a, width, 3));
      if (spec.skips) {
        const shortcut =
          stride === 1 && channels === width
            ? h
            : g.add(`${name}.proj.bn`, BN, g.conv(`${name}.proj`, h, width, 1, { stride, pad: 0 }));
        y = g.add(`${name}.add`, { type: "add" }, [y, shortcut]);
      }
      h = g.add(`${name}.relu2`, { type: "relu" }, y);
      channels = width;
    }
  });
  g.add("gap", { type: "global-average-pooling" }, h);
  g.add("fc", { type: "affine", outputSize: spec.outputSize }, "gap");
  return g.spec({ weightDecayLambda: spec.weightDecayLambda });
}
