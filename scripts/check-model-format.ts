/**
 * `npm run check:model-format [-- MODEL.safetensors …]`: checks that docs/model-format.md is
 * enough to rebuild a network without zerodl. scripts/zerodl_numpy.py (written from the document
 * alone) runs each model file forward in NumPy; its scores must equal zerodl's.
 *
 * Without arguments it builds graphs that use every layer type and setting (padding that would win
 * a max, average pooling over padding, both dropout forms, batch norm with trained statistics,
 * LRN, 1×1 and strided convolutions, fan-out, Add, Concat) and checks those; with arguments it
 * checks the given files (e.g. models/*.safetensors) on random inputs.
 *
 * Needs python3 with NumPy (a cross-check only: zerodl itself never needs Python).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Graph, type GraphSpec } from "../src/models/graph.js";
import { loadModel, saveModel } from "../src/io/model-file.js";
import { NDArray } from "../src/ndarray.js";
import { Rng } from "../src/rng.js";
import type { Model } from "../src/models/model.js";

const python = process.env.PYTHON ?? "python3";
const dir = mkdtempSync(join(tmpdir(), "zerodl-format-"));

/** A float32/float64 array as a .npy file (version 1.0, little-endian, C order). */
function npy(a: NDArray): Buffer {
  const descr = a.dtype === "float64" ? "<f8" : "<f4";
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${a.shape.join(", ")}${a.shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([
    head,
    Buffer.from(header, "latin1"),
    Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength),
  ]);
}

function readNpy(path: string): Float64Array {
  const buf = readFileSync(path);
  const len = buf.readUInt16LE(8);
  const header = buf.toString("latin1", 10, 10 + len);
  const body = buf.subarray(10 + len);
  const copy = new Uint8Array(body).buffer;
  return header.includes("<f8") ? new Float64Array(copy) : Float64Array.from(new Float32Array(copy));
}

const specs: Record<string, GraphSpec> = {
  "every-layer": {
    inputs: [{ name: "x", shape: [3, 9, 9] }],
    nodes: [
      { name: "c1", type: "convolution", inputs: ["x"], filters: 6, fh: 3, fw: 3, pad: 1 },
      { name: "bn1", type: "batchnorm", inputs: ["c1"], momentum: 0.5, eps: 1e-3 },
      { name: "r1", type: "relu", inputs: ["bn1"] },
      { name: "lrn", type: "lrn", inputs: ["r1"], n: 3, alpha: 0.5, beta: 0.75, k: 1 },
      { name: "b1", type: "convolution", inputs: ["lrn"], filters: 2, fh: 1, fw: 1 },
      { name: "b2", type: "convolution", inputs: ["lrn"], filters: 3, fh: 3, fw: 2, pad: 1 },
      { name: "crop", type: "pooling", inputs: ["b2"], ph: 1, pw: 2, stride: 1 },
      { name: "b3p", type: "pooling", inputs: ["lrn"], ph: 3, pw: 3, stride: 1, pad: 1 },
      { name: "b3", type: "convolution", inputs: ["b3p"], filters: 2, fh: 1, fw: 1 },
      { name: "cat", type: "concat", inputs: ["b1", "crop", "b3"] },
      { name: "proj", type: "convolution", inputs: ["c1"], filters: 7, fh: 1, fw: 1 },
      { name: "sum", type: "add", inputs: ["cat", "proj"] },
      { name: "t", type: "tanh", inputs: ["sum"] },
      // Max pooling whose padding would win over negative values, average pooling over padding.
      { name: "mp", type: "pooling", inputs: ["t"], ph: 3, pw: 3, stride: 2, pad: 1 },
      { name: "ap", type: "pooling", inputs: ["mp"], ph: 2, pw: 2, stride: 2, pad: 1, kind: "avg" },
      { name: "strided", type: "convolution", inputs: ["ap"], filters: 4, fh: 2, fw: 2, stride: 2, pad: 1 },
      { name: "gap", type: "global-average-pooling", inputs: ["strided"] },
      { name: "flat", type: "flatten", inputs: ["ap"] },
      { name: "fc1", type: "affine", inputs: ["flat"], outputSize: 4 },
      { name: "bn2", type: "batchnorm", inputs: ["fc1"] },
      { name: "s", type: "sigmoid", inputs: ["bn2"] },
      { name: "d1", type: "dropout", inputs: ["s"], ratio: 0.3 },
      { name: "d2", type: "dropout", inputs: ["gap"], ratio: 0.4, inverted: true },
      { name: "merge", type: "add", inputs: ["d1", "d2"] },
      { name: "out", type: "affine", inputs: ["merge"], outputSize: 5 },
    ],
  },
};

async function check(name: string, path: string, model: Model): Promise<number> {
  const shape = model.spec.inputShape;
  const rng = new Rng(7);
  const dtype = model.params[0].value.dtype;
  const x = NDArray.zeros([4, ...shape], dtype);
  rng.fillNormal(x.data);
  const input = join(dir, `${name}.x.npy`);
  const output = join(dir, `${name}.y.npy`);
  writeFileSync(input, npy(x));
  const run = spawnSync(python, [new URL("zerodl_numpy.py", import.meta.url).pathname, path, input, output], {
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`${name}: python failed:\n${run.stderr}`);
  const theirs = readNpy(output);
  const ours = model.predict(x).data;
  let worst = 0;
  for (let i = 0; i < ours.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / (1e-6 + Math.abs(ours[i])));
  }
  if (theirs.length !== ours.length)
    throw new Error(`${name}: ${theirs.length} scores from NumPy, ${ours.length} from zerodl`);
  console.log(`${name}: ${ours.length} scores, largest relative difference ${worst.toExponential(2)}`);
  return worst;
}

const files = process.argv.slice(2);
let worst = 0;
if (files.length > 0) {
  for (const path of files) {
    const { model } = await loadModel(path);
    worst = Math.max(worst, await check(path.split("/").at(-1)!, path, model));
  }
} else {
  for (const [name, spec] of Object.entries(specs)) {
    for (const dtype of ["float64", "float32"] as const) {
      const rng = new Rng(3);
      const model = Graph.build(spec, rng, dtype);
      // A few training passes so batch norm's running statistics are not the initial zeros.
      const x = NDArray.zeros([6, ...spec.inputs[0].shape], dtype);
      rng.fillNormal(x.data);
      for (let i = 0; i < 3; i++) model.loss(x, Int32Array.from([0, 1, 2, 3, 4, 0]), "train");
      const path = join(dir, `${name}-${dtype}.safetensors`);
      await saveModel(path, model);
      const { model: loaded } = await loadModel(path);
      worst = Math.max(worst, await check(`${name} (${dtype})`, path, loaded));
    }
  }
}
const limit = 1e-4;
if (worst > limit) {
  console.error(`FAIL: NumPy and zerodl differ by up to ${worst.toExponential(2)} (limit ${limit})`);
  process.exit(1);
}
console.log("ok: the NumPy reading of the format agrees with zerodl");
