import { OptionError, ShapeError, formatShape } from "../errors.js";
import { Affine } from "../layers/affine.js";
import { Flatten } from "../layers/flatten.js";
import { NDArray } from "../ndarray.js";
import { Rng } from "../rng.js";
import { Graph, type GraphSpec, type NodeSpec } from "./graph.js";

/**
 * The network as a fully convolutional one (book §8.4.2, FCN): every Affine layer becomes the
 * convolution that computes the same thing. An Affine reading a (C, H, W) feature map (through a
 * Flatten or directly) is a convolution of `outputSize` filters of C×H×W — the book's example
 * turns an Affine on a 32×10×10 input into a 32×10×10 filter — and an Affine reading a vector is a
 * 1×1 convolution. Flatten layers go. On inputs of the original size the new network gives the
 * same scores, as (N, classes, 1, 1); on a larger input it gives a class score per position — the
 * original network applied to every window, in one forward pass.
 *
 * `inputShape` is the (C, H, W) the new network declares (its layers take any size of at least
 * the original's). The weights are copied; the result has no loss (its output is a map).
 */
export function toFullyConvolutional(model: Graph, inputShape?: readonly number[]): Graph {
  const arch = model.architecture();
  if (arch.inputs.length !== 1)
    throw new OptionError("toFullyConvolutional: the network must have one input");
  const shapes = model.nodeShapes();
  /** What each tensor is in the new graph: the same name, or (for a dropped Flatten) its input. */
  const alias = new Map<string, string>();
  const resolve = (name: string) => alias.get(name) ?? name;
  const nodes: NodeSpec[] = [];
  /** Converted Affine nodes: their weights as convolution filters. */
  const filters = new Map<string, { W: NDArray; b: NDArray }>();
  for (const spec of arch.nodes) {
    const node = model.node(spec.name);
    const inputs = spec.inputs.map(resolve);
    if (node.layer instanceof Flatten) {
      alias.set(spec.name, inputs[0]);
      continue;
    }
    if (node.layer instanceof Affine) {
      // The map it reads in the original network: through a Flatten, the Flatten's input.
      const source = inputs[0];
      const map = shapes.get(source)!;
      const [c, h, w] = map.length === 3 ? map : [map[0], 1, 1];
      const W = node.layer.W.value; // (c·h·w, out)
      const out = W.shape[1];
      if (W.shape[0] !== c * h * w) {
        throw new ShapeError(
          `toFullyConvolutional: node "${spec.name}" has W ${formatShape(W.shape)} for an input of ${formatShape(map)}`,
        );
      }
      // Affine flattens in C, H, W order, so filter o is column o of W, reshaped to (c, h, w).
      const K = NDArray.zeros([out, c, h, w], W.dtype);
      for (let i = 0; i < c * h * w; i++)
        for (let o = 0; o < out; o++) K.data[o * c * h * w + i] = W.data[i * out + o];
      filters.set(spec.name, { W: K, b: node.layer.b.value.clone() });
      const { params } = spec;
      nodes.push({
        name: spec.name,
        type: "convolution",
        filters: out,
        fh: h,
        fw: w,
        stride: 1,
        pad: 0,
        inputs,
        params,
      });
      continue;
    }
    nodes.push({ ...spec, inputs });
  }
  const fcnSpec: GraphSpec = {
    inputs: [{ name: arch.inputs[0].name, shape: [...(inputShape ?? arch.inputs[0].shape)] }],
    nodes,
    outputs: (arch.outputs ?? [arch.nodes.at(-1)!.name]).map(resolve),
    loss: null,
  };
  const fcn = Graph.build(fcnSpec, new Rng(0), model.params[0]?.value.dtype ?? "float32");
  const from = new Map(model.tensors().map((t) => [t.name, t.value]));
  const to = new Map(fcn.tensors().map((t) => [t.name, t]));
  for (const node of fcn.architecture().nodes) {
    const converted = filters.get(node.name);
    for (const [key, name] of Object.entries(node.params ?? {})) {
      const value = converted ? converted[key as "W" | "b"] : from.get(name)!;
      to.get(name)!.set(value.clone());
    }
  }
  return fcn;
}
