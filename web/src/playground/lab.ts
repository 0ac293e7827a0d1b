/**
 * Chapter 6 as settings: what the reader picks in the page (network, optimizer, initialisation,
 * batch norm, dropout, weight decay, depth and width, data size, seed) becomes the library's own
 * networks and optimizers — MultiLayerNetExtend (book §6.3–6.4), SimpleConvNet (§7.5) and
 * chapter 8's ResNet (§8.2.4) — with nothing re-implemented here.
 */
import {
  MultiLayerNetExtend,
  ResNet,
  Rng,
  SimpleConvNet,
  createOptimizer,
  optimizerNames,
  type Model,
  type Optimizer,
  type OptimizerName,
  type WeightInit,
} from "../../../src/index.js";

export type Architecture = "mlp" | "simple-conv" | "resnet";
export type InitChoice = "std" | "xavier" | "he";
export type Activation = "relu" | "sigmoid" | "tanh";

export interface LabConfig {
  architecture: Architecture;
  /** Hidden layers of the MLP (ignored by SimpleConvNet); ResNet: basic blocks per stage. */
  depth: number;
  /**
   * Units per hidden layer (SimpleConvNet: its one hidden Affine); ResNet: the first stage's
   * channels (the second and third stages have 2× and 4×).
   */
  width: number;
  activation: Activation;
  init: InitChoice;
  /** The std of "std" initialisation (the book's 0.01). */
  initStd: number;
  batchNorm: boolean;
  /** 0 = no dropout; otherwise the book's Dropout with this ratio (scaled at test time). */
  dropout: number;
  weightDecay: number;
  optimizer: OptimizerName;
  lr: number;
  trainSize: number;
  epochs: number;
  batchSize: number;
  seed: number;
}

/** The book's default learning rate per optimizer (ch06 optimizer_compare_mnist.py; SGD 0.01 there, 0.1 in ch05). */
export const defaultLr: Record<OptimizerName, number> = {
  sgd: 0.1,
  momentum: 0.01,
  nesterov: 0.01,
  adagrad: 0.01,
  rmsprop: 0.001,
  adam: 0.001,
};

export const optimizerLabels: Record<OptimizerName, string> = {
  sgd: "SGD",
  momentum: "Momentum",
  nesterov: "Nesterov",
  adagrad: "AdaGrad",
  rmsprop: "RMSprop",
  adam: "Adam",
};

export const defaultConfig: LabConfig = {
  architecture: "mlp",
  depth: 2,
  width: 100,
  activation: "relu",
  init: "he",
  initStd: 0.01,
  batchNorm: false,
  dropout: 0,
  weightDecay: 0,
  optimizer: "sgd",
  lr: 0.1,
  trainSize: 10000,
  epochs: 2,
  batchSize: 100,
  seed: 1,
};

/** Checks a configuration, naming the setting and the valid values when one is wrong. */
export function checkConfig(config: LabConfig): LabConfig {
  const problems: string[] = [];
  const integer = (name: keyof LabConfig, lo: number, hi: number) => {
    const v = config[name] as number;
    if (!Number.isInteger(v) || v < lo || v > hi)
      problems.push(`${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  const real = (name: keyof LabConfig, lo: number, hi: number, openLo = false) => {
    const v = config[name] as number;
    if (!Number.isFinite(v) || v > hi || (openLo ? v <= lo : v < lo))
      problems.push(`${name} must be in ${openLo ? "(" : "["}${lo}, ${hi}], got ${v}`);
  };
  integer("depth", 1, 8);
  integer("width", 1, 1000);
  integer("trainSize", 1, 60000);
  integer("epochs", 1, 50);
  integer("batchSize", 1, 1000);
  integer("seed", 0, 2 ** 31 - 1);
  // A ResNet's cost grows with the square of its width: 64 first-stage channels (64/128/256) is
  // already ~16× the default's work per image.
  if (config.architecture === "resnet") integer("width", 1, 64);
  real("lr", 0, 10, true);
  real("initStd", 0, 10, true);
  real("dropout", 0, 0.95);
  real("weightDecay", 0, 1);
  if (!optimizerNames.includes(config.optimizer))
    problems.push(`optimizer "${config.optimizer}" is unknown; valid: ${optimizerNames.join(", ")}`);
  if (problems.length > 0) throw new RangeError(`training settings: ${problems.join("; ")}`);
  return config;
}

function weightInit(config: LabConfig): WeightInit {
  return config.init === "std" ? config.initStd : config.init;
}

/** The network and optimizer a configuration describes, weights drawn from `rng`. */
export function buildLab(config: LabConfig, rng: Rng): { model: Model; optimizer: Optimizer } {
  checkConfig(config);
  const optimizer = createOptimizer(config.optimizer, { lr: config.lr });
  if (config.architecture === "resnet") {
    // Its own initialization (He, batch norm after every convolution) and no dropout: the paper's.
    const w = config.width;
    const model = new ResNet(
      {
        widths: [w, 2 * w, 4 * w],
        blocks: [config.depth, config.depth, config.depth],
        weightDecayLambda: config.weightDecay,
      },
      rng,
    );
    return { model, optimizer };
  }
  if (config.architecture === "simple-conv") {
    const model = new SimpleConvNet(
      {
        inputShape: [1, 28, 28],
        hiddenSize: config.width,
        weightInitStd: weightInit(config),
        weightDecayLambda: config.weightDecay,
      },
      rng,
    );
    return { model, optimizer };
  }
  const model = new MultiLayerNetExtend(
    {
      inputSize: 784,
      hiddenSizeList: Array.from({ length: config.depth }, () => config.width),
      outputSize: 10,
      activation: config.activation,
      weightInitStd: weightInit(config),
      weightDecayLambda: config.weightDecay,
      useBatchnorm: config.batchNorm,
      useDropout: config.dropout > 0,
      dropoutRatio: config.dropout,
    },
    rng,
  );
  return { model, optimizer };
}

/** A short name for a run, listing what differs from the defaults (the legend of overlaid curves). */
export function describeConfig(config: LabConfig): string {
  const parts: string[] = [];
  const w = config.width;
  if (config.architecture === "resnet")
    parts.push(`ResNet-${resNetLayers(config.depth)} ${w}/${2 * w}/${4 * w} channels`);
  else if (config.architecture === "simple-conv") parts.push(`SimpleConvNet, hidden ${w}`);
  else parts.push(`MLP ${config.depth}×${w} ${config.activation}`);
  parts.push(`${optimizerLabels[config.optimizer]} lr ${config.lr}`);
  if (config.architecture !== "resnet")
    parts.push(config.init === "std" ? `std ${config.initStd}` : config.init === "he" ? "He" : "Xavier");
  if (config.architecture === "mlp" && config.batchNorm) parts.push("batch norm");
  if (config.architecture === "mlp" && config.dropout > 0) parts.push(`dropout ${config.dropout}`);
  if (config.weightDecay > 0) parts.push(`λ ${config.weightDecay}`);
  parts.push(`${config.trainSize.toLocaleString("en")} images`, `seed ${config.seed}`);
  return parts.join(" · ");
}

/** Weighted layers of a ResNet with `blocks` basic blocks in each of its three stages: the stem, two convolutions per block, the Affine. */
export function resNetLayers(blocks: number): number {
  return 2 + 6 * blocks;
}
