/**
 * Text for language models (the sequel's `preprocess`): a vocabulary mapping tokens to ids and
 * back, and the unigram baseline a language model's perplexity is compared with.
 */
import { DataError } from "./errors.js";
import { gunzip, sha256 } from "./bytes.js";

/** Token ↔ id (the sequel's word_to_id / id_to_word). */
export class Vocabulary {
  readonly tokens: readonly string[];
  readonly #ids: Map<string, number>;

  constructor(tokens: readonly string[]) {
    this.#ids = new Map(tokens.map((t, i) => [t, i]));
    if (this.#ids.size !== tokens.length) throw new RangeError("Vocabulary: tokens must be distinct");
    this.tokens = [...tokens];
  }

  /** Every distinct character of `text`, in code-point order. */
  static ofCharacters(text: string): Vocabulary {
    return new Vocabulary([...new Set(Array.from(text))].sort());
  }

  get size(): number {
    return this.tokens.length;
  }

  id(token: string): number {
    const id = this.#ids.get(token);
    if (id === undefined) throw new RangeError(`Vocabulary: unknown token ${JSON.stringify(token)}`);
    return id;
  }

  token(id: number): string {
    const t = this.tokens[id];
    if (t === undefined) throw new RangeError(`Vocabulary: id ${id} outside [0, ${this.size})`);
    return t;
  }

  /** The characters of `text` as ids. */
  encodeCharacters(text: string): Int32Array {
    return Int32Array.from(Array.from(text), (c) => this.id(c));
  }

  decode(ids: ArrayLike<number>, separator = ""): string {
    return Array.from(ids, (id) => this.token(id)).join(separator);
  }
}

/**
 * The unigram model's perplexity on `test`: each token's probability is its frequency in `train`,
 * with add-one smoothing over `vocabSize` tokens (so a token unseen in training is not impossible).
 * exp(−mean log p) — the number a language model must beat to have learnt anything about order.
 */
export function unigramPerplexity(
  train: ArrayLike<number>,
  test: ArrayLike<number>,
  vocabSize: number,
): number {
  const counts = new Float64Array(vocabSize).fill(1);
  for (let i = 0; i < train.length; i++) counts[train[i]]++;
  const total = train.length + vocabSize;
  let logSum = 0;
  for (let i = 0; i < test.length; i++) logSum += Math.log(counts[test[i]] / total);
  return Math.exp(-logSum / test.length);
}

/** A corpus split for a language model: the text, its vocabulary, and train/held-out ids. */
export interface TextCorpus {
  name: string;
  text: string;
  vocabulary: Vocabulary;
  train: Int32Array;
  test: Int32Array;
}

/** SHA-256 of data/devils-dictionary/devil.dict.dz and of its content (SOURCE.md beside it). */
export const DEVILS_DICTIONARY = {
  file: "devil.dict.dz",
  sha256: "995ca92760d677965cb2780e78b808e982f9d49e8c12d795c1854476bbf13819",
  contentSha256: "703d1225d2fb927653bfd8b00e4e96938e0b630c6023edd26702ac6ed50383f8",
} as const;

/**
 * The Devil's Dictionary (Bierce, 1911; public domain; Debian's dict-devil) from the bytes of
 * devil.dict.dz, checksums verified, as a character-level corpus: the last `testFraction` of the
 * text is held out.
 */
export async function devilsDictionary(bytes: Uint8Array, testFraction = 0.1): Promise<TextCorpus> {
  const { file, sha256: expected, contentSha256 } = DEVILS_DICTIONARY;
  const got = await sha256(bytes);
  if (got !== expected)
    throw new DataError(`${file}: SHA-256 ${got}, expected ${expected} (${bytes.length} bytes)`);
  const content = await gunzip(bytes, file);
  if ((await sha256(content)) !== contentSha256)
    throw new DataError(`${file}: its content's SHA-256 is wrong`);
  const all = new TextDecoder().decode(content);
  // dictfmt's header lines come before the preface, its alphabet line after the last entry.
  const start = all.indexOf("PREFACE");
  const end = all.lastIndexOf("\n abcdefghijklmnopqrstuvwxyz");
  const text = all.slice(start, end > start ? end : all.length).trimEnd() + "\n";
  const vocabulary = Vocabulary.ofCharacters(text);
  const ids = vocabulary.encodeCharacters(text);
  const cut = Math.round(ids.length * (1 - testFraction));
  return { name: "devils-dictionary", text, vocabulary, train: ids.slice(0, cut), test: ids.slice(cut) };
}
