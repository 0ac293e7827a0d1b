/**
 * Downloads against an HTTP server on 127.0.0.1 that this test starts: a good mirror and mirrors
 * that answer 403, send a truncated file, cut the connection, send wrong bytes, or stall.
 * Nothing here touches the internet.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataError, MissingFileError } from "../src/data/errors.js";
import { loadMnist } from "../src/data/mnist.js";
import { fetchSource } from "../src/data/source.js";
import { DownloadError, downloadFile, type DownloadProgress } from "../src/data/node/download.js";
import { progressBar } from "../src/data/node/progress-bar.js";
import { tinyDataset } from "./fixtures/tiny-mnist.js";

const tiny = tinyDataset();
const file = tiny.files.trainImages; // the largest tiny archive
const fast = { timeoutMs: 300, retries: 1, backoffMs: 5 };

let server: Server;
let base: string;
const requests: string[] = [];
let flakyCount = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const [, mode, name] = (req.url ?? "").split("/");
    requests.push(`${mode}/${name}`);
    const body = tiny.archives[name];
    if (!body) return void res.writeHead(404).end();
    switch (mode) {
      case "good":
        return void res.writeHead(200, { "content-length": body.length }).end(body);
      case "forbidden":
        return void res.writeHead(403, "Forbidden").end("no");
      case "truncated": {
        const half = body.subarray(0, body.length >> 1);
        return void res.writeHead(200, { "content-length": half.length }).end(half);
      }
      case "cut": // announces the full length, sends half, then drops the connection
        res.writeHead(200, { "content-length": body.length });
        res.write(body.subarray(0, body.length >> 1));
        return void setTimeout(() => res.destroy(), 20);
      case "wrong": {
        const wrong = Uint8Array.from(body);
        wrong[wrong.length >> 1] ^= 0xff;
        return void res.writeHead(200, { "content-length": wrong.length }).end(wrong);
      }
      case "stall": // headers and a first part, then nothing
        res.writeHead(200, { "content-length": body.length });
        res.write(body.subarray(0, 10));
        return; // never ends; closed when the server closes
      case "flaky": // 503 once, then good
        if (flakyCount++ === 0) return void res.writeHead(503, "Service Unavailable").end();
        return void res.writeHead(200, { "content-length": body.length }).end(body);
      default:
        return void res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "zerodl-download-"));
}

describe("downloadFile", () => {
  it("tries mirrors in turn, verifies, and stores only the good file", async () => {
    const dest = await tempDir();
    const progress: DownloadProgress[] = [];
    const mirrors = ["forbidden", "truncated", "cut", "wrong", "stall", "good"].map((m) => `${base}/${m}/`);
    const bytes = await downloadFile(file.file, mirrors, dest, {
      ...fast,
      onProgress: (p) => progress.push(p),
    });
    expect(Buffer.from(bytes).equals(Buffer.from(file.gz))).toBe(true);
    expect(await readdir(dest)).toEqual([file.name]); // no temporary files left behind
    expect(Buffer.from(await readFile(join(dest, file.name))).equals(Buffer.from(file.gz))).toBe(true);
    const last = progress[progress.length - 1];
    expect(last).toMatchObject({
      file: file.name,
      url: `${base}/good/${file.name}`,
      bytes: file.gz.length,
      total: file.gz.length,
      done: true,
    });
    expect(last.bytesPerSecond).toBeGreaterThan(0);
    await rm(dest, { recursive: true });
  });

  it("names every mirror that failed and why, and leaves nothing behind", async () => {
    const dest = await tempDir();
    const mirrors = ["forbidden", "truncated", "cut", "wrong", "stall"].map((m) => `${base}/${m}`);
    const failure = downloadFile(file.file, mirrors, dest, fast);
    await expect(failure).rejects.toBeInstanceOf(DownloadError);
    const message: string = await failure.then(
      () => "",
      (e: Error) => e.message,
    );
    const n = file.gz.length;
    expect(message.split("\n")).toEqual([
      `${file.name}: download failed from every mirror:`,
      `  ${base}/forbidden/${file.name}: HTTP 403 Forbidden`,
      `  ${base}/truncated/${file.name}: truncated: the server sends ${n >> 1} bytes, expected ${n}`,
      expect.stringMatching(
        new RegExp(
          `^  ${base}/cut/${file.name}: connection lost after ${n >> 1} of ${n} bytes \\(.*\\) \\(2 attempts\\)$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^  ${base}/wrong/${file.name}: wrong content: SHA-256 [0-9a-f]{64}, expected ${file.file.gz.sha256}$`,
        ),
      ),
      `  ${base}/stall/${file.name}: stalled: no data for 0.3 s after 10 of ${n} bytes (2 attempts)`,
    ]);
    expect(await readdir(dest)).toEqual([]);
    await rm(dest, { recursive: true });
  });

  it("retries a transient failure with back-off", async () => {
    const dest = await tempDir();
    const before = requests.filter((r) => r.startsWith("flaky/")).length;
    await downloadFile(file.file, [`${base}/flaky/`], dest, fast);
    expect(requests.filter((r) => r.startsWith("flaky/")).length - before).toBe(2);
    expect(await readdir(dest)).toEqual([file.name]);
    await rm(dest, { recursive: true });
  });

  it("reports a mirror that refuses connections", async () => {
    const dest = await tempDir();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve)); // nothing listens there now
    await expect(downloadFile(file.file, [`http://127.0.0.1:${port}/`], dest, fast)).rejects.toThrow(
      `  http://127.0.0.1:${port}/${file.name}: fetch failed (ECONNREFUSED) (2 attempts)`,
    );
    await rm(dest, { recursive: true });
  });

  it("draws a progress bar", () => {
    let text = "";
    const stream = new Writable({
      write(chunk, _enc, done) {
        text += String(chunk);
        done();
      },
    }) as NodeJS.WritableStream & { isTTY?: boolean };
    stream.isTTY = true; // cli-progress draws only on terminals
    const report = progressBar(stream);
    const total = 9_912_422;
    for (const bytes of [0, total >> 1, total]) {
      report({ file: "f.gz", url: "u", bytes, total, bytesPerSecond: 2e6, done: bytes === total });
    }
    expect(text).toContain("f.gz");
    expect(text).toContain("9.9 MB");
    expect(text).toContain("2.0 MB/s");
  });
});

describe("loadMnist downloads into the cache", () => {
  it("downloads what no local place has, then reads it from the cache", async () => {
    const cacheDir = await tempDir();
    const mirrors = [`${base}/forbidden/`, `${base}/good/`];
    const first = tinyDataset({ mirrors });
    const notes: string[] = [];
    const { train } = await loadMnist({
      dataset: first.info,
      cacheDir,
      ...fast,
      onNote: (n) => notes.push(n),
    });
    expect(train.labels.length).toBe(6);
    expect((await readdir(join(cacheDir, "tiny"))).sort()).toEqual(Object.keys(first.archives).sort());

    const count = requests.length;
    const second = tinyDataset({ mirrors }); // a fresh registry entry: not in the in-memory cache
    await loadMnist({ dataset: second.info, cacheDir, download: false });
    expect(requests.length).toBe(count); // served from the cache
    expect(notes).toEqual([]);
    await rm(cacheDir, { recursive: true });
  });

  it("tries user mirrors first", async () => {
    const cacheDir = await tempDir();
    const ds = tinyDataset({ mirrors: [`${base}/stall/`] });
    const stalls = () => requests.filter((r) => r.startsWith("stall/")).length;
    const before = stalls();
    await loadMnist({ dataset: ds.info, cacheDir, mirrors: [`${base}/good/`], ...fast });
    expect(stalls()).toBe(before); // the registry's (stalling) mirror was never needed
    await rm(cacheDir, { recursive: true });
  });
});

describe("fetchSource (the browser's byte source)", () => {
  it("loads a dataset over HTTP and verifies it", async () => {
    const ds = tinyDataset();
    const { train, test } = await loadMnist({ dataset: ds.info, source: fetchSource(`${base}/good`) });
    expect(train.labels.length).toBe(6);
    expect(test.labels.length).toBe(3);
    // The four files load at once: whichever fails first is named (on a loaded machine, not always
    // the first in the list).
    await expect(
      loadMnist({ dataset: tinyDataset().info, source: fetchSource(`${base}/wrong/`) }),
    ).rejects.toThrow(/(train|t10k)-(images-idx3|labels-idx1)-ubyte\.gz: (corrupt gzip data|wrong content)/);
  });

  it("needs an absolute base URL outside a page", () => {
    expect(() => fetchSource("data/mnist")).toThrow(
      'fetchSource: "data/mnist" is not an absolute URL, and there is no page to resolve it against',
    );
  });

  it("tells a missing file (404) from a refused one", async () => {
    await expect(fetchSource(`${base}/good/`)("nothing.gz")).rejects.toBeInstanceOf(MissingFileError);
    const refused = fetchSource(`${base}/forbidden/`)(file.name);
    await expect(refused).rejects.toBeInstanceOf(DataError);
    await expect(refused).rejects.toThrow(
      `${file.name}: ${base}/forbidden/${file.name} answered HTTP 403 Forbidden`,
    );
  });
});
