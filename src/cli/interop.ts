/**
 * `zerodl export MODEL --format onnx|pytorch` and `zerodl import FILE --out MODEL.safetensors`:
 * models to and from the rest of the ecosystem (docs/formats.md, docs/scale-out.md).
 */
import { readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { type Command, Option } from "commander";
import { loadModel, readModelInfo, saveModel, type ModelRecord } from "../io/model-file.js";
import { writeFileAtomic } from "../io/atomic.js";
import { exportOnnx, ONNX_OPSET } from "../io/onnx/export.js";
import { importOnnx } from "../io/onnx/import.js";
import {
  CAPTIONER_IMAGE,
  CAPTIONER_SCORES,
  CAPTIONER_WORDS,
  exportCaptionerOnnx,
  importCaptionerOnnx,
  storedZerodlSpec,
} from "../io/onnx/captioner.js";
import { exportPytorch, importPytorchWeights, PYTORCH_WEIGHTS } from "../io/pytorch.js";
import {
  exportCaptionerPytorch,
  importCaptionerPytorchWeights,
  isCaptionerWeights,
} from "../io/pytorch-captioner.js";
import type { Layer, MergeLayer, Param } from "../layers/layer.js";
import { Captioner } from "../models/captioner.js";
import type { Model } from "../models/model.js";
import { formatBytes } from "../data/bytes.js";
import { loadAgent } from "../rl/agent-file.js";
import { loadCaptioner } from "./caption.js";
import { CliError, type CliIo } from "./common.js";

export const exportFormats = ["onnx", "pytorch"] as const;
export type ExportFormat = (typeof exportFormats)[number];

export interface ExportOptions {
  format: ExportFormat;
  out?: string;
  /** zerodl's version, written into the files. */
  version: string;
}

type ChainModel = Model & { readonly layers: readonly (Layer | MergeLayer)[] };

function chain(model: Model, path: string): ChainModel {
  if (!("layers" in model))
    throw new CliError(`${path}: a ${model.spec.kind} model has no layer chain to export`);
  return model as ChainModel;
}

export async function exportCommand(modelPath: string, options: ExportOptions, io: CliIo): Promise<void> {
  const stem = basename(modelPath, extname(modelPath));
  const info = await readModelInfo(modelPath);
  const classes = info.training?.classNames as string[] | undefined;
  const captioner = info.spec.kind === "captioner" ? await loadCaptioner(modelPath) : null;
  // A DQN agent's Q-network is a chain of layers like a classifier's, with action values out.
  const qNetwork = info.spec.kind === "q-network";
  const model =
    captioner ??
    (qNetwork
      ? ((await loadAgent(modelPath)).network as unknown as Model)
      : (await loadModel(modelPath)).model);
  if (options.format === "onnx") {
    const out = options.out ?? join(".", `${stem}.onnx`);
    const about = { name: stem, producerVersion: options.version };
    const bytes = captioner
      ? exportCaptionerOnnx(captioner, about)
      : exportOnnx(chain(model as Model, modelPath), { ...about, classes });
    await writeFileAtomic(out, bytes);
    // Read back: what was written must import to the same weights.
    const written = new Uint8Array(await readFile(out));
    const back = captioner ? importCaptionerOnnx(written, out) : importOnnx(written, out).model;
    if (!sameWeights(back.params, model.params))
      throw new Error(`${out}: verification failed: the file does not read back to the model's weights`);
    const shape = model.spec.inputShape.join(", ");
    const signature = captioner
      ? `inputs "${CAPTIONER_IMAGE}" (N, ${shape}) and "${CAPTIONER_WORDS}" (N, T) → output "${CAPTIONER_SCORES}" (N, T, ${captioner.vocabSize}), the next word's scores`
      : `input "input" (N, ${shape}) → output "logits" (N, ${(model as Model).spec.outputSize})`;
    io.out(
      `wrote ${out} (ONNX opset ${ONNX_OPSET}, ${formatBytes(bytes.length)}): ${signature}; read back with identical weights`,
    );
    return;
  }
  if (qNetwork) {
    throw new CliError(
      `${modelPath}: the PyTorch hand-off writes classifiers and the captioner (its train.py trains on MNIST); a DQN Q-network exports to ONNX only (--format onnx)`,
    );
  }
  const dir = options.out ?? `${stem}-pytorch`;
  const about = { name: stem, training: info.training, version: options.version };
  const files = captioner
    ? exportCaptionerPytorch(captioner, about)
    : exportPytorch(chain(model as Model, modelPath), { ...about, classes });
  for (const [name, content] of Object.entries(files)) await writeFileAtomic(join(dir, name), content);
  io.out(`wrote ${dir}/: ${Object.keys(files).join(", ")}`);
  io.out(`  check:  python3 ${join(dir, "model.py")}`);
  io.out(
    `  train:  torchrun --nproc_per_node 2 ${join(dir, "train.py")} --data DIR_WITH_MNIST --out trained.safetensors`,
  );
  io.out(`  back:   zerodl import trained.safetensors --out ${stem}-trained.safetensors`);
}

function sameWeights(a: readonly Param[], b: readonly Param[]): boolean {
  return a.length === b.length && a.every((p, i) => p.value.data.every((v, j) => v === b[i].value.data[j]));
}

export interface ImportOptions {
  out: string;
  /** For PyTorch weights without the architecture in their metadata: a zerodl model of the architecture. */
  like?: string;
}

export async function importCommand(path: string, options: ImportOptions, io: CliIo): Promise<void> {
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new CliError(e.code === "ENOENT" ? `${path} not found` : `${path}: ${e.message}`);
  });
  const record: ModelRecord = {};
  let model: Model | Captioner;
  if (isSafetensors(bytes) && isCaptionerWeights(new Uint8Array(bytes), path)) {
    const imported = importCaptionerPytorchWeights(new Uint8Array(bytes), path);
    model = imported.model;
    record.training = { importedFrom: basename(path), format: "pytorch", ...imported.training };
  } else if (isSafetensors(bytes)) {
    const like = options.like ? (await loadModel(options.like)).model : undefined;
    const imported = importPytorchWeights(
      new Uint8Array(bytes),
      path,
      like === undefined ? undefined : chain(like, options.like!),
    );
    model = imported.model;
    record.training = { importedFrom: basename(path), format: "pytorch", ...imported.training };
  } else if (storedZerodlSpec(new Uint8Array(bytes), path)?.kind === "captioner") {
    model = importCaptionerOnnx(new Uint8Array(bytes), path);
    record.training = { importedFrom: basename(path), format: "onnx" };
  } else {
    const imported = importOnnx(new Uint8Array(bytes), path);
    model = imported.model;
    const { info } = imported;
    record.training = {
      importedFrom: basename(path),
      format: "onnx",
      producer: info.producer,
      name: info.name,
      ...(info.classes ? { classNames: info.classes } : {}),
    };
    for (const note of info.notes) io.err(`note: ${note}`);
  }
  await saveModel(options.out, model, record);
  const count = model.params.reduce((s, p) => s + p.value.size, 0);
  const outputs =
    model instanceof Captioner ? `${model.vocabSize} tokens` : `${model.spec.outputSize} classes`;
  io.out(
    `imported ${path} → ${options.out}: a "${model.spec.kind}" model, input (${model.spec.inputShape.join(", ")}) → ${outputs}, ${count.toLocaleString("en-US")} parameters`,
  );
}

/** safetensors begins with its header's length (8 bytes) and then "{"; ONNX's protobuf does not. */
function isSafetensors(bytes: Uint8Array): boolean {
  return bytes.length > 9 && bytes[8] === 0x7b;
}

export function registerInteropCommands(program: Command, io: CliIo, version: () => string): void {
  program
    .command("export")
    .description(
      "export a model to ONNX (for ONNX Runtime and others) or to PyTorch (model.py, weights, a DDP training script)",
    )
    .argument("<model>", "model file (.safetensors)")
    .addOption(
      new Option("--format <format>", "onnx or pytorch").choices(exportFormats).makeOptionMandatory(),
    )
    .option(
      "--out <path>",
      `output file (onnx; default NAME.onnx) or folder (pytorch; default NAME-pytorch/)`,
    )
    .action((model, options) => exportCommand(model, { ...options, version: version() }, io));

  program
    .command("import")
    .description(
      `import an ONNX model, or the ${PYTORCH_WEIGHTS} a PyTorch export's training wrote back, as a zerodl model file`,
    )
    .argument(
      "<file>",
      "an .onnx file, or PyTorch weights (.safetensors) from `zerodl export --format pytorch`",
    )
    .requiredOption("--out <model>", "the zerodl model file to write (.safetensors)")
    .option(
      "--like <model>",
      "PyTorch weights only: a zerodl model file of the same architecture (when the weights lack it)",
    )
    .action((file, options) => importCommand(file, options, io));
}
