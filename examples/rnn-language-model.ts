// A character-level LSTM language model in a few lines (the sequel's Rnnlm; book §8.4.3's RNN):
// trained on the first 60,000 characters of The Devil's Dictionary, judged on held-out text
// against the unigram model, then asked to write.   npx tsx examples/rnn-language-model.ts
import { Adam, Rng, RnnLm, RnnlmTrainer, unigramPerplexity, useFastBackend } from "../src/index.js";
import { loadDevilsDictionary } from "../src/node.js";

await useFastBackend();
const corpus = await loadDevilsDictionary(); // public domain, shipped in data/, checksums verified
const train = corpus.train.slice(0, 60_000);
const test = corpus.test.slice(0, 10_000);
const V = corpus.vocabulary.size; // 83 characters
console.log(`unigram perplexity on held-out text: ${unigramPerplexity(train, test, V).toFixed(1)}`);

const rng = new Rng(1);
const model = new RnnLm({ kind: "rnnlm", vocabSize: V, wordvecSize: 32, hiddenSize: 128 }, rng);
const trainer = new RnnlmTrainer({
  model,
  optimizer: new Adam({ lr: 0.01 }),
  corpus: train,
  test,
  epochs: 3,
  batchSize: 16, // parallel streams through the text
  timeSize: 32, // truncated BPTT: gradients flow back 32 characters
  maxGradNorm: 5,
});
for (const e of trainer.steps()) {
  if (e.type === "epoch") {
    console.log(
      `epoch ${e.epoch}: perplexity ${e.trainPerplexity.toFixed(1)} (held-out ${e.testPerplexity?.toFixed(1)})`,
    );
  }
}
const prompt = corpus.vocabulary.encodeCharacters("LOVE, n.");
const ids = model.generate(prompt, 200, rng, { temperature: 0.6 });
console.log("LOVE, n." + corpus.vocabulary.decode(ids));
