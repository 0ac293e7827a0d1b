import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classCounts, fromOneHot } from "../src/data/dataset.js";
import { loadMnist } from "../src/data/mnist.js";
import { fashionMnist, mnist } from "../src/data/registry.js";
import { memorySource } from "../src/data/source.js";
import { Rng } from "../src/rng.js";
import { idxBytes, sha256Hex, tinyDataset } from "./fixtures/tiny-mnist.js";

const root = new URL("..", import.meta.url).pathname;

describe("loadMnist on the bundled MNIST", () => {
  it("loads 60000/10000 images with the book's defaults (normalize, flatten)", async () => {
    const { train, test, classNames } = await loadMnist();
    expect(train.x.shape).toEqual([60000, 784]);
    expect(test.x.shape).toEqual([10000, 784]);
    expect(train.x.dtype).toBe("float32");
    expect(train.labels[0]).toBe(5);
    expect(classNames).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    // Class counts as listed in data/mnist/SOURCE.md.
    expect(classCounts(train.labels, 10)).toEqual([
      5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949,
    ]);
    expect(classCounts(test.labels, 10)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);

    // Pixels are the file's bytes / 255 (decoded here with node:zlib, independently of the loader).
    const raw = gunzipSync(await readFile(join(root, "data/mnist/t10k-images-idx3-ubyte.gz")));
    const last = raw.subarray(raw.length - 784);
    const got = test.x.data.subarray(test.x.size - 784);
    for (let i = 0; i < 784; i++) expect(got[i]).toBe(Math.fround(last[i] / 255));
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.x.data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect([min, max]).toEqual([0, 1]);
  });

  it("keeps images as (N, 1, 28, 28) without flatten, raw 0…255 without normalize", async () => {
    const flat = await loadMnist();
    const images = await loadMnist({ flatten: false, normalize: false });
    expect(images.train.x.shape).toEqual([60000, 1, 28, 28]);
    expect(images.test.x.shape).toEqual([10000, 1, 28, 28]);
    for (const i of [0, 1000, 470_000])
      expect(images.train.x.data[i]).toBeCloseTo(flat.train.x.data[i] * 255, 3);
    expect(Math.max(...images.test.x.data.subarray(0, 784))).toBe(255);
  });

  it("returns one-hot targets that agree with the labels", async () => {
    const { train, test, trainOneHot, testOneHot } = await loadMnist({ oneHot: true });
    expect(trainOneHot!.shape).toEqual([60000, 10]);
    expect(testOneHot!.shape).toEqual([10000, 10]);
    expect(Array.from(trainOneHot!.data.subarray(0, 10))).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
    expect(fromOneHot(testOneHot!)).toEqual(test.labels);
    let ones = 0;
    for (const v of trainOneHot!.data) ones += v;
    expect(ones).toBe(train.labels.length);
  });

  it("takes subsets and holds out a validation split", async () => {
    const small = await loadMnist({ subset: { train: 300, test: 50 } });
    expect(small.train.x.shape).toEqual([300, 784]);
    expect(small.test.labels.length).toBe(50);
    expect(small.train.labels[0]).toBe(5); // the book's x_train[:300]
    await expect(loadMnist({ subset: { test: 10001 } })).rejects.toThrow(
      "subset of 10001 samples: the dataset has 10000",
    );

    const split = await loadMnist({ subset: { train: 1000 }, validationSplit: 0.2, rng: new Rng(3) });
    expect(split.train.labels.length).toBe(800);
    expect(split.validation!.labels.length).toBe(200);
    const union = classCounts(split.train.labels, 10).map(
      (c, k) => c + classCounts(split.validation!.labels, 10)[k],
    );
    const first1000 = (await loadMnist({ subset: { train: 1000 } })).train.labels;
    expect(union).toEqual(classCounts(first1000, 10));
    expect(split.validation!.labels).not.toEqual(first1000.subarray(0, 200)); // shuffled first
    const again = await loadMnist({ subset: { train: 1000 }, validationSplit: 0.2, rng: new Rng(3) });
    expect(again.validation!.labels).toEqual(split.validation!.labels);
  });

  it("loads the full set from the files again (verify, gunzip, parse, normalize)", async () => {
    // A copy of the registry entry is not in the per-process cache: this is a cold load. How long it
    // takes is not asserted (about 1 s on an idle core): on a loaded machine any bound is a coin toss.
    const { train } = await loadMnist({ dataset: { ...mnist } });
    expect(train.labels.length).toBe(60000);
    expect(train.x.data[0]).toBe(0);
  });
});

describe.skipIf(!existsSync("/usr/share/datasets/fashion-mnist"))(
  "loadMnist on Fashion-MNIST (system copy)",
  () => {
    it("loads 60000/10000 images with the class names", async () => {
      const { train, test, classNames } = await loadMnist({ dataset: "fashion-mnist", download: false });
      expect(classNames).toEqual(fashionMnist.classNames);
      expect(classNames[9]).toBe("Ankle boot");
      expect(train.x.shape).toEqual([60000, 784]);
      expect(test.x.shape).toEqual([10000, 784]);
      expect(train.labels[0]).toBe(9);
      expect(classCounts(train.labels, 10)).toEqual(new Array(10).fill(6000));
      expect(classCounts(test.labels, 10)).toEqual(new Array(10).fill(1000));
    });
  },
);
if (!existsSync("/usr/share/datasets/fashion-mnist")) {
  console.warn(
    "skipping Fashion-MNIST tests: /usr/share/datasets/fashion-mnist is absent (apt-get install dataset-fashion-mnist)",
  );
}

describe("registry", () => {
  it("lists MNIST's checksums as in data/mnist/SOURCE.md", async () => {
    const source = await readFile(join(root, "data/mnist/SOURCE.md"), "utf8");
    for (const file of Object.values(mnist.files)) {
      expect(source).toContain(file.gz.sha256);
      expect(source).toContain(file.raw.sha256);
      expect(source).toContain(file.gz.bytes.toLocaleString("en-US"));
    }
  });

  it("rejects an unknown dataset name, listing the known ones", async () => {
    await expect(loadMnist({ dataset: "cifar" as never })).rejects.toThrow(
      'unknown dataset "cifar"; valid: mnist, fashion-mnist',
    );
  });
});

describe("loadMnist from a byte source (the browser's path)", () => {
  it("loads a tiny dataset from memory, gzip or plain", async () => {
    const tiny = tinyDataset();
    const files = { ...tiny.archives, "t10k-labels-idx1-ubyte.gz": tiny.files.testLabels.raw };
    const { train, test, classNames } = await loadMnist({
      dataset: tiny.info,
      source: memorySource(files),
      flatten: false,
    });
    expect(train.x.shape).toEqual([6, 1, 4, 4]);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(train.x.data[16]).toBeCloseTo(7 / 255, 6); // image 1, pixel 0
    expect(Array.from(test.labels)).toEqual([0, 1, 2]);
    expect(classNames).toEqual(["a", "b", "c"]);
  });

  it("accepts a re-compressed archive by its content (as Debian ships Fashion-MNIST)", async () => {
    const tiny = tinyDataset();
    const recompressed = new Uint8Array(gzipSync(tiny.files.trainImages.raw, { level: 1 }));
    expect(Buffer.from(recompressed).equals(Buffer.from(tiny.files.trainImages.gz))).toBe(false);
    const files = { ...tiny.archives, "train-images-idx3-ubyte.gz": recompressed };
    const { train } = await loadMnist({ dataset: tiny.info, source: memorySource(files) });
    expect(train.labels.length).toBe(6);
  });

  it("rejects a plain file of the wrong length, naming it and both accepted forms", async () => {
    const tiny = tinyDataset();
    const raw = tiny.files.testLabels.raw;
    const files = { ...tiny.archives, "t10k-labels-idx1-ubyte.gz": raw.subarray(0, raw.length - 1) };
    await expect(loadMnist({ dataset: tiny.info, source: memorySource(files) })).rejects.toThrow(
      `t10k-labels-idx1-ubyte.gz: ${raw.length - 1} bytes, expected ${raw.length} (the uncompressed t10k-labels-idx1-ubyte) or the ${tiny.files.testLabels.gz.length}-byte archive`,
    );
  });

  it("rejects a file whose checksum does not match, naming it", async () => {
    const tiny = tinyDataset();
    const bad = Uint8Array.from(tiny.files.trainLabels.raw);
    bad[bad.length - 1] = 2 - bad[bad.length - 1]; // still a valid label file, wrong content
    const files = { ...tiny.archives, "train-labels-idx1-ubyte.gz": bad };
    await expect(loadMnist({ dataset: tiny.info, source: memorySource(files) })).rejects.toThrow(
      /^train-labels-idx1-ubyte.gz: wrong content: SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}$/,
    );
  });

  it("rejects a truncated file and a missing one", async () => {
    const tiny = tinyDataset();
    const gz = tiny.files.testImages.gz;
    await expect(
      loadMnist({
        dataset: tiny.info,
        source: memorySource({
          ...tiny.archives,
          "t10k-images-idx3-ubyte.gz": gz.subarray(0, gz.length - 5),
        }),
      }),
    ).rejects.toThrow(/^t10k-images-idx3-ubyte.gz: corrupt gzip data/);
    const { ["t10k-images-idx3-ubyte.gz"]: _dropped, ...three } = tiny.archives;
    await expect(loadMnist({ dataset: tiny.info, source: memorySource(three) })).rejects.toThrow(
      "t10k-images-idx3-ubyte.gz: not found in memory",
    );
  });

  it("rejects an image/label count mismatch and a wrong image size (files that match their checksums)", async () => {
    const mismatch = tinyDataset();
    const labels5 = idxBytes([5], [0, 1, 2, 0, 1]);
    const info = {
      ...mismatch.info,
      files: {
        ...mismatch.info.files,
        trainLabels: {
          ...mismatch.info.files.trainLabels,
          raw: { bytes: labels5.length, sha256: sha256Hex(labels5) },
        },
      },
    };
    await expect(
      loadMnist({
        dataset: info,
        source: memorySource({ ...mismatch.archives, "train-labels-idx1-ubyte.gz": labels5 }),
      }),
    ).rejects.toThrow("train-images-idx3-ubyte.gz: 6 images, but train-labels-idx1-ubyte.gz has 5 labels");

    const wrongSize = tinyDataset();
    await expect(
      loadMnist({
        dataset: { ...wrongSize.info, imageShape: [28, 28] },
        source: memorySource(wrongSize.archives),
      }),
    ).rejects.toThrow("train-images-idx3-ubyte.gz: wrong image size: 4×4, expected 28×28");
  });
});

describe("loadMnist resolution in Node", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "zerodl-resolve-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  async function folder(name: string, files: Record<string, Uint8Array>): Promise<string> {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    for (const [file, bytes] of Object.entries(files)) await writeFile(join(dir, file), bytes);
    return dir;
  }

  it("reads a folder the user names, with archives or uncompressed files", async () => {
    const tiny = tinyDataset();
    const dir = await folder("user", {
      ...tiny.archives,
      "train-images-idx3-ubyte.gz": tiny.files.trainImages.raw, // renamed but uncompressed: still fine
    });
    delete (tiny.archives as Record<string, unknown>)["t10k-labels-idx1-ubyte.gz"];
    await rm(join(dir, "t10k-labels-idx1-ubyte.gz"));
    await writeFile(join(dir, "t10k-labels-idx1-ubyte"), tiny.files.testLabels.raw);
    const notes: string[] = [];
    const { train, test } = await loadMnist({
      dataset: tiny.info,
      dir,
      cacheDir: join(tmp, "cache-unused"),
      download: false,
      onNote: (n) => notes.push(n),
    });
    expect(train.labels.length).toBe(6);
    expect(test.labels.length).toBe(3);
    expect(notes).toEqual([]);
  });

  it("skips a bad file with a note and uses the next place; deletes a bad cached file", async () => {
    const tiny = tinyDataset();
    const corrupt = {
      ...tiny.archives,
      "train-labels-idx1-ubyte.gz": tiny.files.trainLabels.gz.subarray(0, 10),
    };
    const dir = await folder("bad-user", corrupt);
    const cacheDir = join(tmp, "cache-good");
    await folder("cache-good/tiny", tiny.archives);
    const notes: string[] = [];
    const { train } = await loadMnist({
      dataset: tiny.info,
      dir,
      cacheDir,
      download: false,
      onNote: (n) => notes.push(n),
    });
    expect(train.labels.length).toBe(6);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(join(dir, "train-labels-idx1-ubyte.gz"));
    expect(notes[0]).toMatch(/corrupt gzip data.*; not used$/);

    // Now the cache holds the bad file and nothing else has it: it is reported, removed, and
    // with downloads off the load fails naming what was tried.
    const tiny2 = tinyDataset();
    const cacheBad = join(tmp, "cache-bad");
    await folder("cache-bad/tiny", corrupt);
    const notes2: string[] = [];
    await expect(
      loadMnist({ dataset: tiny2.info, cacheDir: cacheBad, download: false, onNote: (n) => notes2.push(n) }),
    ).rejects.toThrow(
      /^train-labels-idx1-ubyte.gz: no valid copy, and downloads are off \(offline\); copy the file into .*cache-bad\/tiny or allow downloads\n {2}looked in: cache .*\n {2}local copies rejected:\n {4}cache: .*corrupt gzip/,
    );
    expect(notes2[0]).toMatch(/removed it from the cache$/);
    expect(await readdir(join(cacheBad, "tiny"))).not.toContain("train-labels-idx1-ubyte.gz");
  });
});
