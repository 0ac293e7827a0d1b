import { OptionError } from "../errors.js";
import { BatchNormalization } from "../layers/batch-normalization.js";
import type { Layer, LossLayer, Param } from "../layers/layer.js";
import { SoftmaxWithLoss } from "../layers/softmax-with-loss.js";
import type { DType } from "../ndarray.js";
import type { Rng } from "../rng.js";
import { Graph, renamed, type GraphNode } from "./graph.js";
import { buildLayers, describeLayer, type LayerSpec } from "./layer-spec.js";
import type { ModelSpec } from "./model.js";
import { specOptions } from "./spec.js";

export interface SequentialOptions {
  /** L2 weight decay λ: ½λΣW² joins the loss and λW each W's gradient (book §6.4.1). */
  weightDecayLambda?: number;
  /** The architecture these layers were built from, so the model can be saved and rebuilt. */
  spec?: ModelSpec;
  /**
   * Run each Convolution → ReLU (→ max Pooling) as one fused step (default true): the same values,
   * with fewer passes over the activations (bench/README.md). False runs every layer on its own.
   */
  fuse?: boolean;
}

/** A "sequential" spec: any stack of layers, then SoftmaxWithLoss. */
export type SequentialSpec = {
  kind: "sequential";
  inputShape: number[];
  outputSize: number;
  layers: LayerSpec[];
  weightDecayLambda?: number;
};

/**
 * A stack of layers and a loss layer: the structure of every network in the book, and the graph
 * whose every node reads the one before it (the same engine as Graph).
 *
 * Params are the layers' own, renamed the book's way — W1, b1, W2, …, gamma1, beta1 — by counting
 * each name through the stack, so `params` reads like the book's `network.params` dict and model
 * files get unique names (batch norm's running statistics are running_mean1, running_var1, … beside
 * gamma1). Weight decay applies to every param a layer calls "W" (Affine and Convolution weights),
 * as the book's MultiLayerNet does.
 */
export class Sequential extends Graph {
  readonly #layers: readonly Layer[];

  constructor(
    layers: readonly Layer[],
    lossLayer: LossLayer = new SoftmaxWithLoss(),
    options: SequentialOptions = {},
  ) {
    super(
      {
        inputs: [{ name: "x", shape: options.spec?.inputShape ?? null }],
        nodes: chainNodes(layers),
        loss: lossLayer,
      },
      options,
    );
    this.#layers = layers;
  }

  override get layers(): readonly Layer[] {
    return this.#layers;
  }

  /** Layers are named by position in messages: "layer 3 (Affine)". */
  protected override describeNode(i: number): string {
    return `layer ${i + 1} (${this.#layers[i].constructor.name})`;
  }

  /** Builds the layers a "sequential" spec lists (weights from `rng`), then SoftmaxWithLoss. */
  static fromLayerSpecs(spec: SequentialSpec, rng: Rng, dtype: DType = "float32"): Sequential {
    const { inputShape, outputSize, layers, weightDecayLambda } = specOptions(spec, "sequential", [
      "layers",
      "weightDecayLambda",
    ]);
    if (!Array.isArray(layers))
      throw new OptionError(`sequential model spec: layers must be a list of layer specs`);
    const built = buildLayers(inputShape, layers, rng, dtype);
    if (built.outputShape.length !== 1 || built.outputShape[0] !== outputSize) {
      throw new OptionError(
        `sequential model spec: the layers end in samples of shape (${built.outputShape.join(", ")}), not the ${outputSize} class scores of outputSize`,
      );
    }
    return new Sequential(built.layers, new SoftmaxWithLoss(), {
      weightDecayLambda,
      spec: structuredClone(spec),
    });
  }
}

/**
 * The nodes of a chain: each reads the one before (the first reads the input "x"), named by type
 * and count (convolution1, relu1, …), its tensors named the book's way (W1, b1, gamma1, …).
 */
function chainNodes(layers: readonly Layer[]): GraphNode[] {
  const counts = new Map<string, number>();
  const next = (key: string) => {
    const k = (counts.get(key) ?? 0) + 1;
    counts.set(key, k);
    return k;
  };
  let previous = "x";
  return layers.map((layer) => {
    const type = describable(layer);
    const name = `${type}${next(`node:${type}`)}`;
    const params: Record<string, string> = {};
    for (const p of layer.params) params[p.name] = `${p.name}${next(p.name)}`;
    if (layer instanceof BatchNormalization) {
      // Numbered like the layer's gamma: running_mean1 beside gamma1.
      const k = params.gamma.slice("gamma".length);
      params.running_mean = `running_mean${k}`;
      params.running_var = `running_var${k}`;
    }
    const node: GraphNode = { name, layer, inputs: [previous], params };
    previous = name;
    return node;
  });
}

/** A node name for a layer: its spec type, or "layer" for a class without one. */
function describable(layer: Layer): string {
  try {
    return describeLayer(layer).type;
  } catch {
    return "layer";
  }
}

/**
 * The layers' params named the book's way, by counting each name through the stack: W1, b1, W2, …,
 * gamma1, beta1 (views that read and write the layers' own values and grads), as a chain's nodes
 * name them.
 */
export function numberedParams(layers: readonly { params: readonly Param[] }[]): Param[] {
  const counts = new Map<string, number>();
  return layers.flatMap((layer) =>
    layer.params.map((p) => {
      const k = (counts.get(p.name) ?? 0) + 1;
      counts.set(p.name, k);
      return renamed(p, `${p.name}${k}`);
    }),
  );
}
