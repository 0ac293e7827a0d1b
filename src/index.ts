// Public API: re-exports only.
export * from "./ndarray.js";
export * from "./rng.js";
export * from "./errors.js";
export type { Kernels } from "./backend/kernels.js";
export { kernels, setKernels, withKernels } from "./backend/index.js";
export { reference } from "./backend/reference.js";
export type { Mode, Param, Layer, LossLayer } from "./layers/layer.js";
// core (chapters 1–5): functions, perceptron gates, ops, layers, gradient checking
export * from "./functions.js";
export * from "./perceptron.js";
export * as ops from "./ops/index.js";
export * from "./layers/index.js";
// (the book-style numericalGradient(f, x) comes from functions.js; gradcheck's closure form is used inside checkGradients)
export { compareClose, assertAllClose, randomUpstream, dot, type CloseReport } from "./testing/gradcheck.js";
export * from "./testing/layer-gradcheck.js";
// Data (browser-safe; Node-only loaders are in "zerodl/node")
export * from "./data/dataset.js";
export * from "./data/errors.js";
export { parseIdx, decodeIdx, mnistImages, mnistLabels, LABELS_MAGIC, IMAGES_MAGIC } from "./data/idx.js";
export type { IdxArray, IdxData, IdxType } from "./data/idx.js";
export { isGzip, gunzip, sha256, formatBytes } from "./data/bytes.js";
export * from "./data/registry.js";
export { verifyDataFile, checkArchive } from "./data/verify.js";
export * from "./data/source.js";
export { loadMnist } from "./data/mnist.js";
export type { LoadMnistOptions, MnistFormOptions, Mnist } from "./data/mnist.js";
export * from "./data/augment.js";
export * from "./data/csv.js";
export * from "./data/image-folder.js";
export * from "./io/input-image.js";
// models branch (chapters 6–8): initializers, optimizers, networks, training
export * from "./init.js";
export * from "./optimizers/index.js";
export * from "./models/index.js";
export * from "./train/trainer.js";
// cli branch: the safetensors format (pure, float16 included) and evaluation metrics
export * from "./io/safetensors.js";
export * from "./train/metrics.js";
// fast backend (WASM SIMD on every core): opt in with `await useFastBackend()`
export { useFastBackend, setThreads, backendInfo } from "./backend/index.js";
export { initWasm, simdSupported, type WasmOptions } from "./backend/wasm.js";
// GPU backend (WebGPU, in browsers that have it, in Node through a WebGPU package): opt in with
// `await useWebGPU()`; values come back with `await a.read()`, training with `trainer.runAsync()`
// (docs/webgpu.md)
export { useWebGPU } from "./backend/index.js";
export type { AdapterInfo, WebGPUOptions } from "./backend/webgpu/index.js";
export { accuracyAsync, finish, type Pending } from "./train/accuracy.js";
// experiments branch: random hyperparameter search
export * from "./train/search.js";
// rnn branch: text corpora and vocabularies
export * from "./data/text.js";
export * from "./train/rnnlm-trainer.js";
// dcgan branch: adversarial training, Fréchet distance, scoring generated images
export * from "./train/gan.js";
export * from "./train/weight-average.js";
export * from "./train/frechet.js";
export * from "./train/sample-quality.js";
// interop branch: ONNX export/import and the PyTorch hand-off (pure: bytes in, bytes out)
export { exportOnnx, ONNX_OPSET, ONNX_INPUT, ONNX_OUTPUT, ONNX_IMAGES } from "./io/onnx/export.js";
export type { OnnxExportOptions, OnnxExportable } from "./io/onnx/export.js";
export { importOnnx, importGeneratorOnnx, isGeneratorOnnx, importableOperators } from "./io/onnx/import.js";
export type { ImportedOnnx, OnnxImportOptions, OnnxModelInfo } from "./io/onnx/import.js";
export { OnnxError } from "./io/onnx/proto.js";
export { exportPytorch, importPytorchWeights, PytorchError, PYTORCH_WEIGHTS } from "./io/pytorch.js";
export type { PytorchExportOptions, PytorchModel } from "./io/pytorch.js";
export {
  exportCaptionerOnnx,
  importCaptionerOnnx,
  CAPTIONER_IMAGE,
  CAPTIONER_WORDS,
  CAPTIONER_SCORES,
} from "./io/onnx/captioner.js";
export { exportCaptionerPytorch, importCaptionerPytorchWeights } from "./io/pytorch-captioner.js";
// rl branch (§8.5.4): environments, replay, DQN
export * from "./rl/index.js";
