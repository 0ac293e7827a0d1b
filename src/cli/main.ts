#!/usr/bin/env node
/**
 * The zerodl command line: a thin shell over the library. Every command has --help; errors are one
 * line (the stack only with --verbose) and a non-zero exit code.
 */
import { readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { optimizerNames } from "../optimizers/optimizer.js";
import { weightInitNames } from "../init.js";
import { packageRoot } from "../data/node/files.js";
import { downloadDefaults, mirrorBase } from "../data/node/download.js";
import { datasetNames, processIo, type CliIo } from "./common.js";
import { evalCommand } from "./evaluate.js";
import { infoCommand } from "./info.js";
import { predictCommand } from "./predict.js";
import {
  augmentNames,
  augmentProblem,
  augmentTransforms,
  bookAugment,
  lrScheduleNames,
  modelKinds,
  trainCommand,
  type AugmentName,
} from "./train.js";
import { ganCommand, generateCommand } from "./gan.js";
import { registerExperimentCommand } from "../../experiments/cli.js";
import { registerInteropCommands } from "./interop.js";
import { captionCommand, trainCaptionerCommand } from "./caption.js";
import { registerRlCommand } from "./rl.js";
import { enableRelaxedSimd } from "../backend/node-relaxed.js";

function version(): string {
  const manifest = join(packageRoot(), "package.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

function integer(what: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}.`);
    return n;
  };
}

function integerList(what: string) {
  return (value: string): number[] => value.split(",").map((v) => integer(what)(v.trim()));
}

function number(what: string, min: number, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${what} must be a number in [${min}, ${max === Infinity ? "∞" : max}].`,
      );
    }
    return n;
  };
}

function sizeList(value: string): number[] {
  const sizes = value.split(",").map((s) => Number(s.trim()));
  if (sizes.length === 0 || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
    throw new InvalidArgumentError(`expected positive integers separated by commas, like 100,100.`);
  }
  return sizes;
}

function nameList(value: string): string[] {
  const names = value.split(",").map((s) => s.trim());
  if (names.some((n) => n === "")) {
    throw new InvalidArgumentError(`expected names separated by commas, like stem,stage1.`);
  }
  return names;
}

function augmentValue(value: string): AugmentName[] {
  const names = nameList(value);
  const problem = augmentProblem(names);
  if (problem) throw new InvalidArgumentError(`${problem}.`);
  return names as AugmentName[];
}

function initValue(value: string): string {
  if (
    (weightInitNames as readonly string[]).includes(value) ||
    (Number.isFinite(Number(value)) && Number(value) > 0)
  ) {
    return value;
  }
  throw new InvalidArgumentError(
    `Allowed choices are ${weightInitNames.join(", ")} or a standard deviation like 0.01.`,
  );
}

/** `--backend` and `--threads`; `webgpu` is offered by the commands whose loops run on a GPU. */
function addBackendOptions(command: Command, defaultThreads = "all cores", webgpu = false): void {
  command
    .addOption(
      new Option(
        "--backend <name>",
        webgpu
          ? "kernels: fast (WebAssembly SIMD, threads), reference (plain TypeScript) or webgpu (a GPU, through the webgpu package)"
          : "kernels: fast (WebAssembly SIMD, threads) or reference (plain TypeScript)",
      )
        .choices(webgpu ? ["fast", "reference", "webgpu"] : ["fast", "reference"])
        .default("fast"),
    )
    .option(
      "--threads <n>",
      `threads for the fast backend (default: ${defaultThreads})`,
      integer("--threads"),
    );
}

function seconds(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${what} must be a number of seconds > 0.`);
    return n;
  };
}

function mirrorUrl(value: string, previous: string[] = []): string[] {
  try {
    mirrorBase(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return [...previous, value];
}

/** Where MNIST and Fashion-MNIST come from when no local copy is found (docs/cli.md, "Data"). */
function addDownloadOptions(command: Command): void {
  command
    .option(
      "--mirror <url>",
      "download the dataset from this base URL before the built-in mirrors (repeatable; env ZERODL_MIRRORS)",
      mirrorUrl,
    )
    .option(
      "--cache-dir <dir>",
      "download cache (default: $ZERODL_CACHE_DIR, $XDG_CACHE_HOME/zerodl or ~/.cache/zerodl)",
    )
    .option("--offline", "never download; use local copies only (env ZERODL_OFFLINE=1)")
    .option(
      "--timeout <seconds>",
      `a download attempt fails after this long without data (default ${downloadDefaults.timeoutMs / 1000}; env ZERODL_TIMEOUT)`,
      seconds("--timeout"),
    )
    .option(
      "--retries <n>",
      `further attempts after a transient download failure (default ${downloadDefaults.retries}; env ZERODL_RETRIES)`,
      integer("--retries", 0),
    )
    .option(
      "--stall-budget <seconds>",
      `time a stalled mirror may cost in all before the next one is tried (default ${downloadDefaults.stallBudgetMs / 1000}; env ZERODL_STALL_BUDGET)`,
      seconds("--stall-budget"),
    );
}

const dataHelp = `${datasetNames.join(", ")}, a folder with one subfolder of PNG images per class, or a CSV file (label then pixels)`;

/** The program; `setExitCode` receives a command's own exit code (train's 130 after Ctrl-C). */
export function buildProgram(io: CliIo, setExitCode: (code: number) => void = () => {}): Command {
  const program = new Command("zerodl")
    .description("Deep Learning from Scratch in TypeScript: train, evaluate and use the book's networks")
    .version(version())
    .option("--verbose", "print stack traces of errors")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    })
    .exitOverride();

  program
    .command("train")
    .description(
      "train a network and save it as MODEL.safetensors with its history and a loss/accuracy chart",
    )
    .addOption(new Option("--model <name>", "network to train").choices(modelKinds))
    .option("--data <source>", dataHelp, "mnist")
    .option("--epochs <n>", "passes over the training set (default 5)", integer("--epochs"))
    .option("--batch-size <n>", "mini-batch size", integer("--batch-size"), 100)
    .addOption(
      new Option(
        "--optimizer <name>",
        "update rule (default: sgd for fully connected nets, adam for conv nets)",
      ).choices(optimizerNames),
    )
    .option("--lr <rate>", "learning rate (default: 0.1 with sgd, 0.001 with adam)", number("--lr", 0))
    .option("--weight-decay <lambda>", "L2 weight decay λ (book §6.4.2)", number("--weight-decay", 0))
    .option(
      "--dropout <ratio>",
      "dropout ratio for networks that support it (book §6.4.3)",
      number("--dropout", 0, 0.99),
    )
    .option("--batchnorm", "batch normalization (book §6.3)")
    .addOption(
      new Option("--activation <name>", "hidden-layer activation of fully connected nets").choices([
        "relu",
        "sigmoid",
        "tanh",
      ]),
    )
    .option("--init <init>", `weight init: ${weightInitNames.join(", ")} or a std like 0.01`, initValue)
    .option("--hidden <sizes>", "hidden layer sizes, like 100,100,100", sizeList)
    .addOption(
      new Option(
        "--augment [transforms]",
        `random changes to each training image, from ${augmentNames.join(", ")} (${augmentNames
          .map((n) => `${n}: ${augmentTransforms[n].what}`)
          .join("; ")}); alone: ${bookAugment.join(",")} (book §8.1.2)`,
      ).argParser(augmentValue),
    )
    .option(
      "--val-split <fraction>",
      "hold out this fraction of the training set for validation",
      number("--val-split", 0, 0.9),
    )
    .option("--seed <n>", "random seed (weights, batches, augmentation)", integer("--seed", 0), 1)
    .option("--half", "store the weights as float16 (book §8.3.4): half the file size")
    .option(
      "--limit <n>",
      "use only the first n training (and test) images, for quick runs",
      integer("--limit"),
    )
    .option("--test-limit <n>", "use only the first n test images", integer("--test-limit"))
    .option(
      "--eval-samples <n>",
      "images of each set used for the per-epoch accuracies; the last epoch uses all",
      integer("--eval-samples"),
      10000,
    )
    .addOption(
      new Option("--dtype <dtype>", "precision to train in")
        .choices(["float32", "float64"])
        .default("float32"),
    )
    .addOption(
      new Option("--lr-schedule <schedule>", "learning rate over the run: constant, or cosine decay to 0")
        .choices(lrScheduleNames)
        .default("constant"),
    )
    .option(
      "--init-from <model>",
      "transfer learning (book §8.2.3): start from this model's weights where names and shapes agree (the classifier is replaced)",
    )
    .option(
      "--keep-head",
      "with --init-from: copy the classifier too, to train the same task further (e.g. at another lr or augmentation)",
    )
    .option(
      "--freeze <layers>",
      "leave these layers' weights as they are: node names or prefixes, like stem,stage1",
      nameList,
    )
    .option("--out <file>", "where to save the model (.safetensors)")
    .option("--resume <checkpoint>", "continue an interrupted run from its checkpoint")
    .addOption(
      new Option("--stop-after <n>", "stop as if interrupted after n iterations")
        .argParser(integer("--stop-after"))
        .hideHelp(),
    )
    .action(async (options) => setExitCode(await trainCommand(options, io)));
  addBackendOptions(program.commands.at(-1)!, undefined, true);
  addDownloadOptions(program.commands.at(-1)!);

  program
    .command("eval")
    .description("evaluate a model: accuracy, per-class accuracy, confusion matrix and misclassified images")
    .argument("<model>", "model file (.safetensors)")
    .option("--data <source>", dataHelp, "mnist")
    .option("--limit <n>", "use only the first n test images", integer("--limit"))
    .option("--show <n>", "misclassified images to draw", integer("--show", 0), 20)
    .option(
      "--out <base>",
      "where the charts go: BASE.confusion.png, …, or a folder (default: the model's name in the current folder)",
    )
    .option("--no-plots", "do not write the charts")
    .option("--json", "print the results as JSON")
    .action((model, options) => evalCommand(model, options, io));
  addBackendOptions(program.commands.at(-1)!, undefined, true);
  addDownloadOptions(program.commands.at(-1)!);

  program
    .command("predict")
    .description("classify PNG or JPEG images (any size; converted to the model's input like MNIST)")
    .argument("<model>", "model file (.safetensors)")
    .argument("<images...>", "PNG or JPEG files")
    .option("--top <k>", "probabilities to show per image", integer("--top"), 3)
    .addOption(
      new Option("--invert <when>", "invert to white-on-black like MNIST: auto = when the border is light")
        .choices(["auto", "yes", "no"])
        .default("auto"),
    )
    .option("--json", "print the results as JSON")
    .action((model, images, options) => predictCommand(model, images, options, io));
  addBackendOptions(program.commands.at(-1)!, undefined, true);

  program
    .command("info")
    .description("show a model file's architecture, parameter count, training settings and results")
    .argument("<model>", "model file (.safetensors)")
    .option("--json", "print as JSON")
    .action((model, options) => infoCommand(model, options, io));

  program
    .command("train-captioner")
    .description("train the image captioner (CNN encoder + LSTM decoder) on canvases of 1–4 MNIST digits")
    .option("--epochs <n>", "passes (each over fresh canvases)", integer("--epochs"), 8)
    .option("--train-canvases <n>", "training canvases per epoch", integer("--train-canvases"), 60000)
    .option("--test-canvases <n>", "test canvases (from the test digits)", integer("--test-canvases"), 10000)
    .option(
      "--eval-canvases <n>",
      "test canvases captioned after each epoch",
      integer("--eval-canvases"),
      2000,
    )
    .option("--batch-size <n>", "mini-batch size", integer("--batch-size"), 100)
    .option("--lr <rate>", "Adam learning rate", number("--lr", 0), 0.002)
    .option(
      "--lr-end <rate>",
      "decay the learning rate from --lr to this by the last step (half cosine); default: constant",
      number("--lr-end", 0),
    )
    .option("--max-grad-norm <n>", "clip gradients to this global norm", number("--max-grad-norm", 0), 5)
    .option("--beam <k>", "beam width of the final evaluation (beside greedy)", integer("--beam"), 3)
    .option(
      "--encoder-init <model>",
      "start the first convolution from a model file's (e.g. models/simple-conv.safetensors)",
    )
    .option(
      "--from <captioner>",
      "continue from a saved captioner's weights (a second stage, at a lower --lr)",
    )
    .option(
      "--filters <a,b>",
      "filters of the encoder's two convolutions (default 30,16)",
      integerList("--filters"),
    )
    .option("--features <n>", "units of the encoder's feature layer (default 128)", integer("--features"))
    .option("--hidden <n>", "LSTM units (default 128)", integer("--hidden"))
    .option("--wordvec <n>", "word vector size (default 32)", integer("--wordvec"))
    .option(
      "--peeky",
      "peeky decoder: the image's state also enters every step (with --from, a plain captioner becomes peeky)",
    )
    .option("--seed <n>", "random seed (weights, canvases)", integer("--seed", 0), 1)
    .option("--out <file>", "where to save the captioner (.safetensors)")
    .action((options) => trainCaptionerCommand(options, io));
  addBackendOptions(program.commands.at(-1)!);

  program
    .command("caption")
    .description("caption pictures of digits side by side (PNG or JPEG, resized to the model's canvas)")
    .argument("<model>", "captioner model file (.safetensors)")
    .argument("<images...>", "PNG or JPEG files")
    .option("--beam <k>", "beam width (1: greedy)", integer("--beam"), 3)
    .addOption(
      new Option("--invert <when>", "invert to white-on-black like MNIST: auto = when the border is light")
        .choices(["auto", "yes", "no"])
        .default("auto"),
    )
    .option("--json", "print the results as JSON")
    .action((model, images, options) => captionCommand(model, images, options, io));
  addBackendOptions(program.commands.at(-1)!);

  program
    .command("gan")
    .description(
      "train a DCGAN (book §8.5.2) and save its generator as MODEL.safetensors with the loss history, a loss chart and sample grid",
    )
    .option("--data <source>", dataHelp, "mnist")
    .option(
      "--iterations <n>",
      "training iterations (one discriminator and one generator step each)",
      integer("--iterations"),
    )
    .option("--epochs <n>", "passes over the images instead of --iterations", integer("--epochs"))
    .option("--batch-size <n>", "real and generated images per step, each", integer("--batch-size"), 64)
    .option("--lr <rate>", "Adam learning rate of both networks", number("--lr", 0), 0.0002)
    .option(
      "--discriminator-lr <rate>",
      "the discriminator's learning rate, if it should differ from --lr (two time-scale rule)",
      number("--discriminator-lr", 0),
    )
    .option(
      "--real-label <t>",
      "the discriminator's target for real images (below 1: one-sided label smoothing, e.g. 0.9)",
      number("--real-label", 0.5, 1),
      1,
    )
    .addOption(
      new Option(
        "--lr-schedule <schedule>",
        "both learning rates over the run: constant, or cosine decay to 0",
      )
        .choices(lrScheduleNames)
        .default("constant"),
    )
    .option(
      "--beta1 <b>",
      "Adam β1 of both networks (the DCGAN paper's 0.5)",
      number("--beta1", 0, 0.999),
      0.5,
    )
    .option(
      "--latent <n>",
      "length of the latent vector z (the noise; an InfoGAN code comes on top)",
      integer("--latent"),
      64,
    )
    .option(
      "--categories <k>",
      "InfoGAN: a k-way categorical code in the latent vector that the discriminator learns to read back (e.g. 10 for digits; 0: none)",
      integer("--categories", 0),
      0,
    )
    .option(
      "--conditional",
      "class-conditional (AC-GAN): the code is the data's class, so `generate --code k` draws class k",
    )
    .option(
      "--info-weight <λ>",
      "InfoGAN and --conditional: the weight of the code's cross-entropy in both networks' losses",
      number("--info-weight", 0),
      1,
    )
    .option("--generator-channels <a,b>", "generator feature maps at H/4 and H/2", sizeList, [64, 32])
    .option("--discriminator-channels <a,b>", "discriminator feature maps at H/2 and H/4", sizeList, [32, 64])
    .option(
      "--no-discriminator-batch-norm",
      "no batch normalization in the discriminator (the DCGAN recipe has it in the second block)",
    )
    .option(
      "--average <decay>",
      "keep an exponential moving average of the generator's weights with this decay and save it (0: none)",
      number("--average", 0, 0.999999),
      0,
    )
    .option("--seed <n>", "random seed (weights, batches, latent vectors)", integer("--seed", 0), 1)
    .option("--out <file>", "where to save the generator (.safetensors; default runs/dcgan.safetensors)")
    .option(
      "--save-every <n>",
      "also save the generator every n iterations (OUT.itN.safetensors; with --average the last step's weights as OUT.itN.last.safetensors)",
      integer("--save-every"),
    )
    .option(
      "--checkpoint-every <n>",
      "write OUT.checkpoint.safetensors every n iterations and when interrupted (Ctrl-C, SIGTERM)",
      integer("--checkpoint-every"),
      250,
    )
    .option(
      "--resume <checkpoint>",
      "continue an interrupted run from its checkpoint (--iterations N extends it)",
    )
    .option("--keep-checkpoint", "keep the checkpoint when the run completes, to train it further later")
    .addOption(
      new Option("--stop-after <n>", "stop as if interrupted after n iterations")
        .argParser(integer("--stop-after"))
        .hideHelp(),
    )
    .action(async (options) => setExitCode(await ganCommand(options, io)));
  addBackendOptions(program.commands.at(-1)!);

  program
    .command("generate")
    .description("draw images from a generator (zerodl gan) into a PNG grid; --score measures them")
    .argument("<model>", "generator file (.safetensors)")
    .option("--count <n>", "images to draw", integer("--count"), 100)
    .option("--out <file>", "PNG grid to write")
    .option("--seed <n>", "random seed of the latent vectors", integer("--seed", 0), 1)
    .option(
      "--code <k>",
      "an InfoGAN generator: draw every image from category k of its code",
      integer("--code", 0),
    )
    .option("--columns <n>", "images per row (default: a square grid)", integer("--columns"))
    .option("--scale <k>", "draw each pixel as k × k", integer("--scale"), 1)
    .option(
      "--score",
      "score the images with a classifier: confidence, class spread, Fréchet distance to the real test images",
    )
    .option(
      "--classifier <file>",
      "classifier for --score (default: the bundled one for the generator's data)",
    )
    .option("--json", "print the scores as JSON")
    .action((model, options) => generateCommand(model, options, io));
  addBackendOptions(program.commands.at(-1)!);

  registerExperimentCommand(program, io);
  registerInteropCommands(program, io, version);

  registerRlCommand(program, io, { integer, number, addBackendOptions }, setExitCode);

  for (const command of program.commands) {
    command
      .configureOutput(program.configureOutput())
      .exitOverride()
      .showHelpAfterError("(run with --help for usage)");
  }
  return program;
}

/** Runs the CLI on `argv` (the arguments after `zerodl`); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // commander has printed its message (or the help)
    const verbose = argv.includes("--verbose");
    const error = e as Error;
    io.err(verbose ? (error.stack ?? String(error)) : `error: ${error.message}`);
    return 1;
  }
}

// Run when executed directly (node dist/src/cli/main.js, the npm bin link, or tsx src/cli/main.ts).
const invoked = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (invoked === fileURLToPath(import.meta.url)) {
  // `zerodl info m.safetensors | head`: a closed pipe ends the output, not in a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  // The WASM kernels' fused multiply-add on Node 20 too (Node 22+ has it by default); the process
  // is ours, so the CLI sets the V8 flag a library leaves to its application. ZERODL_RELAXED_SIMD=0
  // keeps plain SIMD.
  enableRelaxedSimd();
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
