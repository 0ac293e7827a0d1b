/**
 * Image captioning (book §8.4.3, the NIC model): canvases of 1–4 MNIST test digits, captioned by
 * the pretrained captioner (models/captioner.safetensors: a CNN encoder whose features start an
 * LSTM decoder), greedy and by beam search; the share of canvases captioned exactly (every word
 * right), by caption length; a picture of test canvases with their captions.
 *
 * Quick form (and without a pretrained model): a tiny captioner trained in seconds on a toy set —
 * canvases of 1–2 digits from 1,000 training digits — and tested on 300 canvases of test digits.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DigitCanvases } from "../src/data/captions.js";
import { subset } from "../src/data/dataset.js";
import { loadCaptioner, TEST_CANVAS_SEED } from "../src/cli/caption.js";
import { packageRoot } from "../src/data/node/files.js";
import { Captioner, mnistCaptionerSpec } from "../src/models/captioner.js";
import { Adam } from "../src/optimizers/adam.js";
import { imageGrid } from "../src/plot/charts.js";
import { Rng } from "../src/rng.js";
import { CaptionerTrainer, evaluateCaptions } from "../src/train/captioner-trainer.js";
import { mnistImages } from "./common.js";
import { fmt, type Experiment } from "./experiment.js";

// The package's own models/, from the sources (tsx, vitest) and from the build (dist/experiments) alike.
const PRETRAINED = join(packageRoot(), "models", "captioner.safetensors");
const SHOWN = 24;

/** The toy set of the quick form. */
export const TOY = {
  maxDigits: 2,
  trainDigits: 1000,
  trainCanvases: 3000,
  epochs: 4,
  testCanvases: 300,
  lr: 0.005,
};

export const captioning: Experiment = {
  name: "captioning",
  title: "Image captioning: CNN encoder + LSTM decoder on canvases of MNIST digits",
  book: "§8.4.3 (image captioning, NIC)",
  setup:
    "models/captioner.safetensors (zerodl train-captioner, README) on 10,000 canvases of 1–4 MNIST test digits (seed 0); greedy and beam search of width 3",
  quickForm:
    "a tiny captioner (8 + 8 filters, 32 LSTM units) trained on canvases of 1–2 digits from 1,000 training digits (3,000 per epoch, 4 epochs), tested on 300 canvases",
  async run({ quick, seed, log }) {
    const mnist = await mnistImages();
    let model: Captioner;
    let test: DigitCanvases;
    let source: string;
    const training: { epoch: number; loss: number; exact: number }[] = [];
    if (!quick && existsSync(PRETRAINED)) {
      model = await loadCaptioner(PRETRAINED);
      test = new DigitCanvases(mnist.test, 10000, TEST_CANVAS_SEED);
      source = "models/captioner.safetensors";
    } else {
      if (!quick) log(`no ${PRETRAINED}: a tiny captioner on the toy set instead`);
      const spec = mnistCaptionerSpec({
        maxDigits: TOY.maxDigits,
        filters: [8, 8],
        features: 32,
        wordvecSize: 8,
        hiddenSize: 32,
      });
      model = new Captioner(spec, new Rng(seed));
      const canvas = { maxDigits: TOY.maxDigits };
      test = new DigitCanvases(mnist.test, TOY.testCanvases, TEST_CANVAS_SEED, canvas);
      const trainer = new CaptionerTrainer({
        model,
        optimizer: new Adam({ lr: TOY.lr }),
        trainDigits: subset(mnist.train, TOY.trainDigits),
        trainCanvases: TOY.trainCanvases,
        test,
        epochs: TOY.epochs,
        batchSize: 50,
        seed,
        canvas,
        maxGradNorm: 5,
      });
      for (const e of trainer.steps()) {
        if (e.type !== "epoch") continue;
        training.push({ epoch: e.epoch, loss: e.loss, exact: e.test?.exact ?? NaN });
        log(`epoch ${e.epoch}: loss ${fmt(e.loss)}, test exact ${fmt(e.test?.exact ?? NaN)}`);
      }
      source = "a tiny captioner trained on the toy set";
    }
    const greedy = evaluateCaptions(model, test);
    const beam = evaluateCaptions(model, test, { beamWidth: 3 });
    log(`greedy ${fmt(greedy.exact)}, beam 3 ${fmt(beam.exact)} exact on ${test.count} test canvases`);
    const shown = Array.from({ length: Math.min(SHOWN, test.count) }, (_, i) => i);
    const images = test.images(shown);
    const pixels = test.height * test.width;
    const captions = shown.map((i) => {
      const truth = test.caption(i);
      return beam.captions[i] === truth ? beam.captions[i] : `✗ ${beam.captions[i] || "(none)"} [${truth}]`;
    });
    const summary = (r: typeof greedy) => ({ exact: r.exact, count: r.count, perLength: r.perLength });
    return {
      data: {
        source,
        testCanvases: test.count,
        greedy: summary(greedy),
        beam: { width: 3, ...summary(beam) },
        training,
      },
      figures: [
        {
          caption: `The first ${shown.length} test canvases with their beam-search captions (${source}); a wrong one shows ✗, then [the truth].`,
          spec: imageGrid(
            shown.map((i) => ({
              pixels: images.data.subarray(i * pixels, (i + 1) * pixels),
              width: test.width,
              height: test.height,
            })),
            captions,
            {
              title: `Captions: ${fmt(beam.exact * 100)} % of ${test.count} test canvases exact`,
              columns: 4,
              scale: 1.5,
            },
          ),
        },
      ],
      comparison: [
        { what: "test canvases captioned exactly (greedy)", book: "–", ours: fmt(greedy.exact) },
        { what: "test canvases captioned exactly (beam 3)", book: "–", ours: fmt(beam.exact) },
        ...beam.perLength.map((l) => ({
          what: `… with ${l.length} digit${l.length > 1 ? "s" : ""} (beam 3)`,
          book: "–",
          ours: `${fmt(l.exact)} of ${l.count}`,
        })),
      ],
      summary: `${fmt(beam.exact * 100)} % of ${test.count} test canvases captioned exactly with beam search (greedy ${fmt(greedy.exact * 100)} %; ${source}).`,
    };
  },
};
