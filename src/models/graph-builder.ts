import { OptionError } from "../errors.js";
import type { WeightInit } from "../init.js";
import type { GraphSpec, LossSpec, NodeSpec } from "./graph.js";
import type { LayerSpec } from "./layer-spec.js";

/**
 * Writes a graph spec a node at a time: `add` appends a layer reading the named tensors and
 * returns its name, so a network reads like the function it computes. An Inception block:
 *
 * ```ts
 * const g = new GraphBuilder({ x: [1, 28, 28] });
 * const branch1 = g.convRelu("inc.1x1", "x", 16, 1);
 * const branch2 = g.convRelu("inc.3x3", g.convRelu("inc.3x3r", "x", 16, 1), 32, 3);
 * const branch3 = g.convRelu("inc.5x5", g.convRelu("inc.5x5r", "x", 8, 1), 8, 5);
 * const branch4 = g.convRelu("inc.proj", g.add("inc.pool", { type: "pooling", ph: 3, pw: 3, pad: 1 }, "x"), 8, 1);
 * const inc = g.add("inc", { type: "concat" }, [branch1, branch2, branch3, branch4]);
 * ```
 */
export class GraphBuilder {
  readonly #inputs: { name: string; shape: number[] }[];
  readonly #nodes: NodeSpec[] = [];
  readonly #names = new Set<string>();

  /** The graph's inputs and each one's per-sample shape, in order: `{ x: [1, 28, 28] }`. */
  constructor(inputs: Record<string, readonly number[]>) {
    this.#inputs = Object.entries(inputs).map(([name, shape]) => ({ name, shape: [...shape] }));
    for (const { name } of this.#inputs) this.#names.add(name);
  }

  /** Appends a node `name` computing `layer` from `inputs` (a name, or several for add/concat); returns `name`. */
  add(name: string, layer: LayerSpec, inputs: string | readonly string[]): string {
    if (this.#names.has(name)) throw new OptionError(`GraphBuilder: the name "${name}" is taken`);
    const reads = typeof inputs === "string" ? [inputs] : [...inputs];
    for (const input of reads) {
      if (!this.#names.has(input))
        throw new OptionError(`GraphBuilder: node "${name}" reads "${input}", which is not defined yet`);
    }
    this.#nodes.push({ name, ...layer, inputs: reads } as NodeSpec);
    this.#names.add(name);
    return name;
  }

  /** A square convolution with "same" padding for odd sizes (pad ⌊size/2⌋), `<name>`. */
  conv(name: string, input: string, filters: number, size: number, options: ConvOptions = {}): string {
    const { stride = 1, pad = Math.floor(size / 2), weightInit } = options;
    const spec: LayerSpec = { type: "convolution", filters, fh: size, fw: size, stride, pad };
    if (weightInit !== undefined) spec.weightInit = weightInit;
    return this.add(name, spec, input);
  }

  /** `conv`, then a ReLU named `<name>.relu` (returned): the pair the engine fuses. */
  convRelu(name: string, input: string, filters: number, size: number, options: ConvOptions = {}): string {
    return this.add(`${name}.relu`, { type: "relu" }, this.conv(name, input, filters, size, options));
  }

  /** The finished spec; `outputs` default to the last node, `loss` to softmax-cross-entropy. */
  spec(options: { outputs?: string[]; loss?: LossSpec | null; weightDecayLambda?: number } = {}): GraphSpec {
    const spec: GraphSpec = { inputs: this.#inputs.map((i) => ({ ...i })), nodes: [...this.#nodes] };
    if (options.outputs) spec.outputs = options.outputs;
    if (options.loss !== undefined) spec.loss = options.loss;
    if (options.weightDecayLambda) spec.weightDecayLambda = options.weightDecayLambda;
    return spec;
  }
}

export interface ConvOptions {
  stride?: number;
  /** Default ⌊size/2⌋ ("same" for odd sizes at stride 1). */
  pad?: number;
  weightInit?: WeightInit;
}
