import { describe, expect, it } from "vitest";
import { devilsDictionary, unigramPerplexity, Vocabulary } from "./text.js";

describe("Vocabulary", () => {
  it("maps characters to ids and back", () => {
    const v = Vocabulary.ofCharacters("banana!");
    expect(v.tokens).toEqual(["!", "a", "b", "n"]);
    expect(Array.from(v.encodeCharacters("nab"))).toEqual([3, 1, 2]);
    expect(v.decode([2, 1, 3, 0])).toBe("ban!");
    expect(() => v.id("z")).toThrow(/unknown token "z"/);
    expect(() => v.token(4)).toThrow(/id 4 outside \[0, 4\)/);
  });
});

describe("unigramPerplexity", () => {
  it("is exp of the mean negative log of add-one-smoothed training frequencies", () => {
    // Train counts (+1): token 0 → 3+1, token 1 → 1+1, token 2 → 0+1; total 4 + 3 = 7.
    const ppl = unigramPerplexity([0, 0, 0, 1], [0, 2], 3);
    expect(ppl).toBeCloseTo(Math.exp(-(Math.log(4 / 7) + Math.log(1 / 7)) / 2), 12);
  });
});

describe("devilsDictionary", () => {
  it("refuses bytes whose checksum is not the shipped file's", async () => {
    await expect(devilsDictionary(new Uint8Array([31, 139, 8]))).rejects.toThrow(
      /devil.dict.dz: SHA-256 [0-9a-f]{64}, expected 995ca927/,
    );
  });
});
