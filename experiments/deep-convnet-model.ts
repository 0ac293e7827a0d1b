/**
 * The trained DeepConvNet the chapter-8 experiments inspect: a pretrained model file from
 * `models/` when there is one (any zerodl model file of kind "deep-conv"), otherwise one trained
 * here briefly. Training the book's DeepConvNet properly (20 epochs) takes hours on the reference
 * kernels, so the fallback says what it did in `source`.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { subset } from "../src/data/dataset.js";
import { ModelFileError, SafetensorsError, loadModel, readModelInfo } from "../src/io/model-file.js";
import { DeepConvNet } from "../src/models/deep-conv-net.js";
import type { Model } from "../src/models/model.js";
import { Adam } from "../src/optimizers/adam.js";
import { Rng } from "../src/rng.js";
import { Trainer } from "../src/train/trainer.js";
import { breathe, mnistImages } from "./common.js";
import { fmt } from "./experiment.js";

export const MODELS_DIR = "models";

export interface TrainedDeepConvNet {
  model: Model;
  /** Where the weights came from, for the results and the docs. */
  source: string;
  pretrained: boolean;
}

/** The first model file of kind "deep-conv" under `dir` (sorted by name), or null; unreadable files are noted and skipped. */
export async function findDeepConvNetFile(
  dir = MODELS_DIR,
  note: (m: string) => void = () => {},
): Promise<string | null> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".safetensors")).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  for (const name of names) {
    try {
      const info = await readModelInfo(join(dir, name));
      if (info.spec.kind === "deep-conv") return join(dir, name);
    } catch (e) {
      if (!(e instanceof ModelFileError || e instanceof SafetensorsError)) throw e;
      note(`  skipping ${join(dir, name)}: ${e.message}`);
    }
  }
  return null;
}

const cache = new Map<string, Promise<TrainedDeepConvNet>>();

export function trainedDeepConvNet(options: {
  quick: boolean;
  seed: number;
  log: (m: string) => void;
}): Promise<TrainedDeepConvNet> {
  const key = `${options.quick}/${options.seed}`;
  let found = cache.get(key);
  if (!found) {
    found = load(options);
    cache.set(key, found);
  }
  return found;
}

async function load({
  quick,
  seed,
  log,
}: {
  quick: boolean;
  seed: number;
  log: (m: string) => void;
}): Promise<TrainedDeepConvNet> {
  const file = await findDeepConvNetFile(MODELS_DIR, log);
  if (file) {
    log(`  using the pretrained ${file}`);
    return {
      model: (await loadModel(file)).model,
      source: `pretrained model file ${file}`,
      pretrained: true,
    };
  }
  const data = await mnistImages();
  // Quick: a slim DeepConvNet (the book's layers with an eighth of the filters) for one pass over
  // 2,000 images. Full: the book's DeepConvNet for one pass over 10,000 images.
  const images = quick ? 2000 : 10000;
  const model = new DeepConvNet(quick ? { filters: [4, 4, 8, 8, 16, 16] } : {}, new Rng(seed));
  const trainer = new Trainer({
    model,
    optimizer: new Adam({ lr: quick ? 0.004 : 0.001 }),
    train: subset(data.train, images),
    test: subset(data.test, 100),
    epochs: 1,
    batchSize: quick ? 50 : 100,
    rng: new Rng(seed + 1),
  });
  for (const event of trainer.steps()) {
    await breathe();
    if (event.type === "iteration" && event.iteration % 20 === 0) {
      log(
        `  training DeepConvNet: iteration ${event.iteration}/${event.iterations}, loss ${fmt(event.loss)}`,
      );
    }
  }
  const what = quick ? "a slim DeepConvNet (filters 4-4-8-8-16-16)" : "the book's DeepConvNet";
  return {
    model,
    source: `no pretrained model in ${MODELS_DIR}/: ${what} trained here for 1 epoch on ${images} images (Adam ${quick ? 0.004 : 0.001})`,
    pretrained: false,
  };
}
