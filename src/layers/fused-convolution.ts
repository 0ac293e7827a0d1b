import { kernels } from "../backend/index.js";
import { ShapeError, formatShape } from "../errors.js";
import { NDArray, allocIndices, kernelOutput } from "../ndarray.js";
import { cached } from "./cached.js";
import { Convolution } from "./convolution.js";
import type { Layer, MergeLayer, Mode, Param } from "./layer.js";
import { Pooling } from "./pooling.js";
import { Relu } from "./relu.js";

/**
 * The book's Convolution → ReLU (→ max Pooling) block as one step, run through the fused kernels
 * (convReluPoolForward/Backward): a fast backend keeps the convolution's and the ReLU's outputs to
 * itself and hands back only the pooled output. The same values as the layers one after another
 * (the reference kernels compose exactly them). The layers stay the network's: this step uses the
 * Convolution's params (and fills their grads) and the Pooling's window; the Relu has no state.
 *
 * Networks build these with `fuseNodes`; they are an execution detail, not part of a spec.
 */
export class FusedConvolution implements Layer {
  readonly conv: Convolution;
  /** A max Pooling after the ReLU, or null for Convolution → ReLU alone. */
  readonly pool: Pooling | null;
  #x: NDArray | null = null;
  #out: NDArray | null = null;
  #argmax: Int32Array | null = null;

  constructor(conv: Convolution, pool: Pooling | null = null) {
    if (pool && pool.kind !== "max")
      throw new TypeError(`FusedConvolution: pooling must be max, got ${pool.kind}`);
    this.conv = conv;
    this.pool = pool;
  }

  get params(): readonly Param[] {
    return this.conv.params;
  }

  /** The Convolution's flag: a network's first layer skips dx. */
  get needsInputGrad(): boolean {
    return this.conv.needsInputGrad;
  }

  set needsInputGrad(value: boolean) {
    this.conv.needsInputGrad = value;
  }

  /** The output shape for an input (N, C, H, W): the convolution's, pooled. */
  outputShape(xShape: readonly number[]): number[] {
    const convShape = this.conv.outputShape(xShape);
    return this.pool ? this.pool.outputShape(convShape) : convShape;
  }

  forward(x: NDArray, _mode: Mode): NDArray {
    // The kernels write all of out, argmax and dx: no zeros needed.
    const out = kernelOutput(this.outputShape(x.shape), x.dtype);
    const argmax = allocIndices(this.pool ? out.size : 0, x.dtype, true);
    kernels().convReluPoolForward(
      out.buf,
      argmax,
      x.buf,
      this.conv.W.value.buf,
      this.conv.b.value.buf,
      ...this.#geometry(x),
    );
    this.#x = x;
    this.#out = out;
    this.#argmax = argmax;
    return out;
  }

  backward(dout: NDArray): NDArray {
    const x = cached(this.#x, "FusedConvolution");
    const out = cached(this.#out, "FusedConvolution");
    const argmax = cached(this.#argmax, "FusedConvolution");
    if (dout.ndim !== out.ndim || dout.shape.some((d, i) => d !== out.shape[i])) {
      throw new ShapeError(
        `FusedConvolution: dout ${formatShape(dout.shape)} does not match the output ${formatShape(out.shape)}`,
      );
    }
    const conv = this.conv;
    const dx = kernelOutput(conv.needsInputGrad ? x.shape : [0], x.dtype);
    const dW = NDArray.zeros(conv.W.value.shape, x.dtype);
    const db = NDArray.zeros(conv.b.value.shape, x.dtype);
    const W = conv.W.value.buf;
    kernels().convReluPoolBackward(
      dx.buf,
      dW.buf,
      db.buf,
      dout.buf,
      out.buf,
      argmax,
      x.buf,
      W,
      ...this.#geometry(x),
    );
    conv.W.grad = dW;
    conv.b.grad = db;
    return dx;
  }

  /** n, c, h, w, fn, fh, fw, stride, pad, then the pooling's ph, pw, stride, pad (ph = 0: none). */
  #geometry(x: NDArray) {
    const [N, C, H, W] = x.shape;
    const [FN, , FH, FW] = this.conv.W.value.shape;
    const { stride, pad } = this.conv;
    const p = this.pool;
    return [
      N,
      C,
      H,
      W,
      FN,
      FH,
      FW,
      stride,
      pad,
      p?.ph ?? 0,
      p?.pw ?? 0,
      p?.stride ?? 1,
      p?.pad ?? 0,
    ] as const;
  }
}

/** A node of a network as fusion sees it: a layer, its name, the tensors it reads. */
export interface FusableNode {
  readonly name: string;
  readonly layer: Layer | MergeLayer;
  readonly inputs: readonly string[];
}

/** One step a network runs: a node's layer, or a fused block of nodes (`covers`, in order). */
export interface FusedStep {
  /** The tensor it produces: the last covered node's. */
  output: string;
  layer: Layer | MergeLayer;
  inputs: readonly string[];
  covers: string[];
}

/**
 * The steps a network runs for its nodes (in topological order): every Convolution whose output
 * only a Relu reads becomes one FusedConvolution with it — and with a max Pooling, if that is the
 * only reader of the Relu's output. A tensor in `keep` (a network output) is never fused away.
 * Every other node runs as itself.
 */
export function fuseNodes(nodes: readonly FusableNode[], keep: readonly string[] = []): FusedStep[] {
  const readers = new Map<string, FusableNode[]>();
  for (const node of nodes) for (const i of node.inputs) readers.set(i, [...(readers.get(i) ?? []), node]);
  const onlyReader = (name: string) => {
    const r = readers.get(name);
    return r?.length === 1 && !keep.includes(name) ? r[0] : undefined;
  };
  const steps: FusedStep[] = [];
  const fused = new Set<string>();
  for (const node of nodes) {
    if (fused.has(node.name)) continue;
    const relu = onlyReader(node.name);
    if (node.layer instanceof Convolution && relu?.layer instanceof Relu) {
      const next = onlyReader(relu.name);
      const pool = next?.layer instanceof Pooling && next.layer.kind === "max" ? next : undefined;
      fused.add(relu.name);
      if (pool) fused.add(pool.name);
      steps.push({
        output: (pool ?? relu).name,
        layer: new FusedConvolution(node.layer, pool ? (pool.layer as Pooling) : null),
        inputs: node.inputs,
        covers: [node.name, relu.name, ...(pool ? [pool.name] : [])],
      });
    } else {
      steps.push({ output: node.name, layer: node.layer, inputs: node.inputs, covers: [node.name] });
    }
  }
  return steps;
}

/** `fuseNodes` for a chain of layers (each reads the one before): the layers a chain runs. */
export function fuseLayers(layers: readonly Layer[]): Layer[] {
  const nodes = layers.map((layer, i) => ({ name: `${i}`, layer, inputs: [`${i - 1}`] }));
  return fuseNodes(nodes).map((step) => step.layer as Layer);
}
