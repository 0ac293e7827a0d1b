/**
 * `zerodl export MODEL --format onnx|pytorch` and `zerodl import FILE --out MODEL.safetensors`:
 * models to and from the rest of the ecosystem (docs/formats.md, docs/scale-out.md).
 */
import { readFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { type Command, Option } from "commander";
import { loadModel, readModelInfo, saveModel, type ModelRecord } from "../io/model-file.js";
import { writeFileAtomic } from "../io/atomic.js";
import { exportOnnx, ONNX_IMAGES, ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT } from "../io/onnx/export.js";
import { importGeneratorOnnx, importOnnx, isGeneratorOnnx } from "../io/onnx/import.js";
import { loadGenerator } from "../io/generator-file.js";
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
import { LayerChain } from "../models/layer-chain.js";
import { loadAgent } from "../rl/agent-file.js";
import { createEnvironment } from "../rl/environments.js";
import { QNetwork } from "../rl/q-network.js";
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

/** A model file's network, whatever its kind, with the names of its outputs (classes, actions). */
async function loadExportable(path: string): Promise<{
  model: ChainModel | QNetwork | LayerChain | Captioner;
  kind: string;
  classes?: string[];
  training?: Record<string, unknown>;
}> {
  const info = await readModelInfo(path);
  const training = info.training;
  switch (info.spec.kind) {
    case "captioner":
      return { model: await loadCaptioner(path), kind: "captioner", training };
    case "generator":
      return { model: (await loadGenerator(path)).model, kind: "generator", training };
    case "q-network": {
      // A DQN agent's Q-network: a chain of layers like a classifier's, with action values out.
      const { network, env } = await loadAgent(path);
      return { model: network, kind: "q-network", classes: [...createEnvironment(env).actions], training };
    }
    default: {
      const { model } = await loadModel(path);
      return {
        model: chain(model, path),
        kind: info.spec.kind,
        classes: training?.classNames as string[] | undefined,
        training,
      };
    }
  }
}

export async function exportCommand(modelPath: string, options: ExportOptions, io: CliIo): Promise<void> {
  const stem = basename(modelPath, extname(modelPath));
  const { model, kind, classes, training } = await loadExportable(modelPath);
  const shape = model.spec.inputShape.join(", ");
  if (options.format === "onnx") {
    const out = options.out ?? join(".", `${stem}.onnx`);
    const about = { name: stem, producerVersion: options.version };
    const bytes =
      model instanceof Captioner
        ? exportCaptionerOnnx(model, about)
        : exportOnnx(model, { ...about, classes });
    await writeFileAtomic(out, bytes);
    // Read back: what was written must import to the same weights.
    const written = new Uint8Array(await readFile(out));
    const back =
      model instanceof Captioner
        ? importCaptionerOnnx(written, out)
        : model instanceof LayerChain
          ? importGeneratorOnnx(written, out).generator
          : importOnnx(written, out).model;
    if (!sameWeights(back.params, model.params))
      throw new Error(`${out}: verification failed: the file does not read back to the model's weights`);
    const signature =
      model instanceof Captioner
        ? `inputs "${CAPTIONER_IMAGE}" (N, ${shape}) and "${CAPTIONER_WORDS}" (N, T) → output "${CAPTIONER_SCORES}" (N, T, ${model.vocabSize}), the next word's scores`
        : model instanceof LayerChain
          ? `input "${ONNX_INPUT}" (N, ${shape}), latent vectors → output "${ONNX_IMAGES}" (N, ${model.outputShape.join(", ")})`
          : `input "${ONNX_INPUT}" (N, ${shape}) → output "${ONNX_OUTPUT}" (N, ${model.spec.outputSize})${kind === "q-network" ? ", the action values" : ""}`;
    io.out(
      `wrote ${out} (ONNX opset ${ONNX_OPSET}, ${formatBytes(bytes.length)}): ${signature}; read back with identical weights`,
    );
    return;
  }
  const dir = options.out ?? `${stem}-pytorch`;
  const about = { name: stem, training, version: options.version };
  const files =
    model instanceof Captioner
      ? exportCaptionerPytorch(model, about)
      : exportPytorch(model, { ...about, classes });
  for (const [name, content] of Object.entries(files)) await writeFileAtomic(join(dir, name), content);
  io.out(`wrote ${dir}/: ${Object.keys(files).join(", ")}`);
  io.out(`  check:  python3 ${join(dir, "model.py")}`);
  if ("train.py" in files) {
    io.out(
      `  train:  torchrun --nproc_per_node 2 ${join(dir, "train.py")} --data DIR_WITH_MNIST --out trained.safetensors`,
    );
    io.out(`  back:   zerodl import trained.safetensors --out ${stem}-trained.safetensors`);
  } else {
    // A Q-network's or a generator's training loop stays in zerodl (docs/scale-out.md).
    io.out(`  back:   zerodl import ${join(dir, PYTORCH_WEIGHTS)} --out ${stem}-back.safetensors`);
  }
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
  let model: Model | Captioner | LayerChain | QNetwork;
  if (isSafetensors(bytes) && isCaptionerWeights(new Uint8Array(bytes), path)) {
    const imported = importCaptionerPytorchWeights(new Uint8Array(bytes), path);
    model = imported.model;
    record.training = { importedFrom: basename(path), format: "pytorch", ...imported.training };
  } else if (isSafetensors(bytes)) {
    const like = options.like ? (await loadExportable(options.like)).model : undefined;
    if (like instanceof Captioner) {
      throw new CliError(
        `--like ${options.like}: the captioner's weights carry their architecture; drop --like`,
      );
    }
    const imported = importPytorchWeights(new Uint8Array(bytes), path, like);
    model = imported.model;
    record.training = { importedFrom: basename(path), format: "pytorch", ...imported.training };
  } else if (storedZerodlSpec(new Uint8Array(bytes), path)?.kind === "captioner") {
    model = importCaptionerOnnx(new Uint8Array(bytes), path);
    record.training = { importedFrom: basename(path), format: "onnx" };
  } else if (isGeneratorOnnx(new Uint8Array(bytes), path)) {
    const { generator, info } = importGeneratorOnnx(new Uint8Array(bytes), path);
    model = generator;
    record.training = {
      importedFrom: basename(path),
      format: "onnx",
      producer: info.producer,
      name: info.name,
    };
    for (const note of info.notes) io.err(`note: ${note}`);
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
    model instanceof Captioner
      ? `${model.vocabSize} tokens`
      : model instanceof LayerChain
        ? `images (${model.outputShape.join(", ")})`
        : model instanceof QNetwork
          ? `${model.spec.outputSize} action values`
          : `${model.spec.outputSize} classes`;
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
