/**
 * A character-level LSTM language model (the sequel's Rnnlm; book §8.4.3's RNN that "remembers what
 * it has generated") trained on The Devil's Dictionary (Bierce, 1911; public domain; shipped in
 * data/devils-dictionary/ from Debian's dict-devil). Per epoch: the perplexity on the training
 * text and on the held-out last 10 %, against the unigram model's held-out perplexity; then text
 * sampled from the trained model.
 *
 * Quick form: the first 30,000 training and 5,000 held-out characters, a 64-unit LSTM, 16 streams of
 * 32 steps, lr 0.01, 3 epochs.
 */
import { loadDevilsDictionary } from "../src/data/node/corpus.js";
import { unigramPerplexity } from "../src/data/text.js";
import { RnnLm, type RnnLmSpec } from "../src/models/rnnlm.js";
import { Adam } from "../src/optimizers/adam.js";
import { lineChart } from "../src/plot/charts.js";
import { Rng } from "../src/rng.js";
import { RnnlmTrainer } from "../src/train/rnnlm-trainer.js";
import { breathe } from "./common.js";
import { fmt, type Experiment } from "./experiment.js";

/** The settings of the full run and of the quick one. */
export const LM_SETTINGS = {
  full: {
    hiddenSize: 128,
    wordvecSize: 32,
    layers: 1,
    epochs: 4,
    trainChars: Infinity,
    testChars: Infinity,
    batchSize: 32,
    timeSize: 64,
    lr: 0.003,
  },
  quick: {
    hiddenSize: 64,
    wordvecSize: 32,
    layers: 1,
    epochs: 3,
    trainChars: 30_000,
    testChars: 5_000,
    batchSize: 16,
    timeSize: 32,
    lr: 0.01,
  },
  maxGradNorm: 1,
  /** Characters sampled after training, from the prompt, at each temperature. */
  sampleLength: 400,
  prompt: "LANGUAGE, n.",
  temperatures: [0.5, 1],
};

export const languageModel: Experiment = {
  name: "language-model",
  title: "A character-level LSTM language model: perplexity against the unigram model",
  book: "§8.4.3 (RNN); the sequel's chapters 5–6 (Rnnlm, RnnlmTrainer)",
  setup:
    `The Devil's Dictionary, characters (83 symbols), last 10 % held out; Embedding ${LM_SETTINGS.full.wordvecSize} → ` +
    `TimeLSTM ${LM_SETTINGS.full.hiddenSize} → TimeAffine; Adam lr ${LM_SETTINGS.full.lr}, batch ${LM_SETTINGS.full.batchSize} streams × ` +
    `${LM_SETTINGS.full.timeSize} steps (truncated BPTT), gradients clipped at norm ${LM_SETTINGS.maxGradNorm}, ${LM_SETTINGS.full.epochs} epochs`,
  quickForm:
    "30,000 training and 5,000 held-out characters, 64 LSTM units, 16 streams × 32 steps, lr 0.01, 3 epochs",
  async run({ quick, seed, log }) {
    const corpus = await loadDevilsDictionary();
    const s = quick ? LM_SETTINGS.quick : LM_SETTINGS.full;
    const train = corpus.train.slice(0, Math.min(corpus.train.length, s.trainChars));
    const test = corpus.test.slice(0, Math.min(corpus.test.length, s.testChars));
    const V = corpus.vocabulary.size;
    const unigram = unigramPerplexity(train, test, V);
    log(
      `${train.length} training and ${test.length} held-out characters, ${V} symbols; unigram perplexity ${fmt(unigram)}`,
    );
    const rng = new Rng(seed);
    const spec: RnnLmSpec = {
      kind: "rnnlm",
      vocabSize: V,
      wordvecSize: s.wordvecSize,
      hiddenSize: s.hiddenSize,
      layers: s.layers,
    };
    const model = new RnnLm(spec, rng);
    const { batchSize, timeSize } = s;
    const trainer = new RnnlmTrainer({
      model,
      optimizer: new Adam({ lr: s.lr }),
      corpus: train,
      test,
      epochs: s.epochs,
      batchSize,
      timeSize,
      maxGradNorm: LM_SETTINGS.maxGradNorm,
    });
    const epochs: { epoch: number; train: number; test: number; seconds: number }[] = [];
    for (const e of trainer.steps()) {
      await breathe();
      if (e.type !== "epoch") continue;
      epochs.push({
        epoch: e.epoch,
        train: e.trainPerplexity,
        test: e.testPerplexity as number,
        seconds: e.seconds,
      });
      log(
        `epoch ${e.epoch}: perplexity train ${fmt(e.trainPerplexity)}, held-out ${fmt(e.testPerplexity as number)} (${e.seconds.toFixed(1)} s)`,
      );
    }
    const prompt = corpus.vocabulary.encodeCharacters(LM_SETTINGS.prompt);
    const samples = LM_SETTINGS.temperatures.map((temperature) => ({
      temperature,
      text:
        LM_SETTINGS.prompt +
        corpus.vocabulary.decode(
          model.generate(prompt, LM_SETTINGS.sampleLength, rng.split(), { temperature }),
        ),
    }));
    const final = epochs[epochs.length - 1];
    const x = epochs.map((e) => e.epoch);
    return {
      data: {
        corpus: { name: corpus.name, symbols: V, trainCharacters: train.length, testCharacters: test.length },
        spec,
        settings: { ...LM_SETTINGS, ...s },
        unigramPerplexity: unigram,
        epochs,
        samples,
      },
      figures: [
        {
          caption: `Perplexity per epoch of the LSTM on the training text and on held-out text, and the unigram model's held-out perplexity (${fmt(unigram)}).`,
          spec: lineChart(
            [
              { name: "LSTM, training", x, y: epochs.map((e) => e.train) },
              { name: "LSTM, held-out", x, y: epochs.map((e) => e.test) },
              { name: "unigram, held-out", x, y: x.map(() => unigram) },
            ],
            {
              title: "Character-level LSTM on The Devil's Dictionary",
              xTitle: "epoch",
              yTitle: "perplexity",
              logY: true,
              points: true,
            },
          ),
        },
      ],
      comparison: [
        { what: "held-out perplexity, unigram model", book: "–", ours: fmt(unigram) },
        { what: `held-out perplexity, LSTM after ${final.epoch} epochs`, book: "–", ours: fmt(final.test) },
      ],
      summary:
        `Held-out perplexity ${fmt(final.test)} after ${final.epoch} epochs against the unigram model's ${fmt(unigram)} ` +
        `(${fmt(unigram / final.test)}× lower); sample at temperature ${samples[0].temperature}: ${JSON.stringify(samples[0].text.slice(0, 80))}…`,
    };
  },
};
