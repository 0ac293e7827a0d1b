/** The language model's corpus from the package's own files (Node). */
import { join } from "node:path";
import { devilsDictionary, DEVILS_DICTIONARY, type TextCorpus } from "../text.js";
import { fsSource, packageRoot } from "./files.js";

/** The Devil's Dictionary from data/devils-dictionary/ (checksums verified), last 10 % held out. */
export async function loadDevilsDictionary(testFraction = 0.1): Promise<TextCorpus> {
  const bytes = await fsSource(join(packageRoot(), "data", "devils-dictionary"))(DEVILS_DICTIONARY.file);
  return devilsDictionary(bytes, testFraction);
}
