/**
 * Downloads against a fault-injecting HTTP server on 127.0.0.1 that this test starts: a good
 * mirror, and mirrors that answer 403 or 404, send a truncated file, cut the connection, send
 * wrong bytes, stall after the first bytes, never answer, fail once, or refuse connections.
 * Nothing here touches the internet.
 *
 * No outcome depends on the machine's speed: the idle timeout runs on timers this test fires by
 * hand, exactly when a stalling mirror has stopped sending (`clock` below), so a good mirror is
 * never timed out however loaded the machine is, and a stalled one always is.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DataError, MissingFileError } from "../src/data/errors.js";
import { loadMnist } from "../src/data/mnist.js";
import { fetchSource } from "../src/data/source.js";
import {
  DownloadError,
  MirrorBook,
  downloadFile,
  type DownloadProgress,
  type DownloadTimers,
} from "../src/data/node/download.js";
import { downloadSettingsFromEnv } from "../src/data/node/resolve.js";
import { defaultCacheDir } from "../src/data/node/files.js";
import { progressBar } from "../src/data/node/progress-bar.js";
import { OptionError } from "../src/errors.js";
import { tinyDataset } from "./fixtures/tiny-mnist.js";

const tiny = tinyDataset();
const file = tiny.files.trainImages; // the largest tiny archive
const n = file.gz.length;

/** Timers that fire only when told to: `fireAll()` times out whatever attempt is waiting now. */
class HandTimers implements DownloadTimers {
  #pending = new Map<number, () => void>();
  #next = 0;
  setTimeout(fire: () => void): number {
    this.#pending.set(++this.#next, fire);
    return this.#next;
  }
  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }
  fireAll(): void {
    const due = [...this.#pending.values()];
    this.#pending.clear();
    for (const fire of due) fire();
  }
}

let clock = new HandTimers();

/**
 * The settings of every download here: hand-fired timers; a "stall" mirror is timed out once its
 * first 10 bytes have arrived (the moment it stops sending), a "silent" one as soon as it has the
 * request. Timeout and budget are only numbers charged per stall, never waited for.
 */
function fast(extra: { stallBudgetMs?: number } = {}) {
  return {
    timeoutMs: 300,
    retries: 1,
    backoffMs: 1,
    stallBudgetMs: extra.stallBudgetMs ?? 600,
    timers: clock,
    onProgress: (p: DownloadProgress) => {
      if (p.url.includes("/stall/") && p.bytes === 10 && !p.done) clock.fireAll();
    },
  };
}

let server: Server;
let base: string;
let refused: string; // a port nobody listens on
const requests: string[] = [];
const flaky = new Map<string, number>();
const count = (mode: string) => requests.filter((r) => r.startsWith(`${mode}/`)).length;

beforeAll(async () => {
  server = createServer((req, res) => {
    const [, mode, name] = (req.url ?? "").split("/");
    requests.push(`${mode}/${name}`);
    const body = tiny.archives[name];
    if (!body) return void res.writeHead(404, "Not Found").end();
    switch (mode) {
      case "good":
        return void res.writeHead(200, { "content-length": body.length }).end(body);
      case "forbidden":
        return void res.writeHead(403, "Forbidden").end("no");
      case "missing":
        return void res.writeHead(404, "Not Found").end();
      case "truncated": {
        const half = body.subarray(0, body.length >> 1);
        return void res.writeHead(200, { "content-length": half.length }).end(half);
      }
      case "cut": // announces the full length, sends half, then drops the connection
        res.writeHead(200, { "content-length": body.length });
        return void res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      case "wrong": {
        const wrong = Uint8Array.from(body);
        wrong[wrong.length >> 1] ^= 0xff;
        return void res.writeHead(200, { "content-length": wrong.length }).end(wrong);
      }
      case "stall": // headers and the first 10 bytes, then nothing (closed when the server closes)
        res.writeHead(200, { "content-length": body.length });
        return void res.write(body.subarray(0, 10));
      case "silent": // takes the request and never answers
        return void clock.fireAll();
      case "flaky": // 503 once per file, then good
        flaky.set(name, (flaky.get(name) ?? 0) + 1);
        if (flaky.get(name) === 1) return void res.writeHead(503, "Service Unavailable").end();
        return void res.writeHead(200, { "content-length": body.length }).end(body);
      default:
        return void res.writeHead(404, "Not Found").end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  refused = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
  await new Promise((resolve) => closed.close(resolve)); // nothing listens there now
});

beforeEach(() => {
  clock = new HandTimers();
  flaky.clear();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "zerodl-download-"));
}

const at = (...modes: string[]) => modes.map((m) => `${base}/${m}/`);

async function messageOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "(no error)",
    (e: Error) => e.message,
  );
}

describe("downloadFile", () => {
  it("tries mirrors in turn, verifies, and stores only the good file", async () => {
    const dest = await tempDir();
    const progress: DownloadProgress[] = [];
    const options = fast();
    const mirrors = at("forbidden", "missing", "truncated", "cut", "wrong", "stall", "silent", "good");
    const bytes = await downloadFile(file.file, mirrors, dest, {
      ...options,
      onProgress: (p) => {
        options.onProgress(p);
        progress.push(p);
      },
    });
    expect(Buffer.from(bytes).equals(Buffer.from(file.gz))).toBe(true);
    expect(await readdir(dest)).toEqual([file.name]); // no temporary files left behind
    expect(Buffer.from(await readFile(join(dest, file.name))).equals(Buffer.from(file.gz))).toBe(true);
    const last = progress[progress.length - 1];
    expect(last).toMatchObject({
      file: file.name,
      url: `${base}/good/${file.name}`,
      bytes: n,
      total: n,
      done: true,
    });
    expect(last.bytesPerSecond).toBeGreaterThan(0);
    await rm(dest, { recursive: true });
  });

  it("says first what failed and what to do, then every mirror and why; leaves nothing behind", async () => {
    const dest = await tempDir();
    const mirrors = [...at("forbidden", "missing", "truncated", "cut", "wrong", "stall", "silent"), refused];
    const failure = downloadFile(file.file, mirrors, dest, fast());
    await expect(failure).rejects.toBeInstanceOf(DownloadError);
    expect((await messageOf(failure)).split("\n")).toEqual([
      `${file.name}: download failed from all 8 mirrors; name a mirror that has it ` +
        `(--mirror URL or ZERODL_MIRRORS) or copy the file into ${dest}`,
      `  ${base}/forbidden/${file.name}: HTTP 403 Forbidden`,
      `  ${base}/missing/${file.name}: HTTP 404 Not Found`,
      `  ${base}/truncated/${file.name}: truncated: the server sends ${n >> 1} bytes, expected ${n}`,
      expect.stringMatching(
        new RegExp(
          `^  ${base}/cut/${file.name}: truncated: the connection was lost after ${n >> 1} of ${n} bytes \\(.*\\) \\(2 attempts\\)$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^  ${base}/wrong/${file.name}: wrong content: SHA-256 [0-9a-f]{64}, expected ${file.file.gz.sha256}$`,
        ),
      ),
      // 0.3 s, then the rest of the 0.6 s budget: 0.3 s again.
      `  ${base}/stall/${file.name}: stalled: no data for 0.3 s after 10 of ${n} bytes (2 attempts); ` +
        `stalled for 0.6 s in all, the stall budget: not tried again`,
      `  ${base}/silent/${file.name}: stalled: no response within 0.3 s (2 attempts); ` +
        `stalled for 0.6 s in all, the stall budget: not tried again`,
      `  ${refused}${file.name}: fetch failed (ECONNREFUSED)`, // not retried: nobody listens there
    ]);
    expect(await readdir(dest)).toEqual([]);
    await rm(dest, { recursive: true });
  });

  it("retries a transient failure (HTTP 503) with back-off", async () => {
    const dest = await tempDir();
    const before = count("flaky");
    await downloadFile(file.file, at("flaky"), dest, fast());
    expect(count("flaky") - before).toBe(2);
    expect(await readdir(dest)).toEqual([file.name]);
    await rm(dest, { recursive: true });
  });

  it("gives a stalled mirror only the rest of its budget on the next attempt", async () => {
    const dest = await tempDir();
    const message = await messageOf(downloadFile(file.file, at("stall"), dest, fast({ stallBudgetMs: 700 })));
    // 0.3 + 0.3 + 0.1 s: three attempts, the last one cut to what was left of the 0.7 s.
    expect(message).toContain(
      `stall/${file.name}: stalled: no data for 0.1 s after 10 of ${n} bytes (3 attempts); ` +
        `stalled for 0.7 s in all, the stall budget: not tried again`,
    );
    await rm(dest, { recursive: true });
  });

  it("refuses mirrors that are not http(s) URLs and settings out of range", async () => {
    const dest = await tempDir();
    await expect(downloadFile(file.file, ["ftp://example.org/"], dest)).rejects.toThrow(
      new OptionError(`mirror "ftp://example.org/": only http and https mirrors are supported`),
    );
    await expect(downloadFile(file.file, ["not a url"], dest)).rejects.toBeInstanceOf(OptionError);
    await expect(downloadFile(file.file, at("good"), dest, { timeoutMs: 0 })).rejects.toThrow(
      "timeoutMs 0: expected a number ≥ 1",
    );
    await expect(downloadFile(file.file, at("good"), dest, { retries: 1.5 })).rejects.toThrow(
      "retries 1.5: expected an integer ≥ 0",
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
    const first = tinyDataset({ mirrors: at("forbidden", "good") });
    const notes: string[] = [];
    // Every download option spelled out: the option type declares them all.
    const { train } = await loadMnist({
      dataset: first.info,
      cacheDir,
      timeoutMs: 300,
      retries: 1,
      backoffMs: 1,
      stallBudgetMs: 600,
      timers: clock,
      fetch: globalThis.fetch,
      onProgress: () => {},
      onNote: (note) => notes.push(note),
    });
    expect(train.labels.length).toBe(6);
    expect((await readdir(join(cacheDir, "tiny"))).sort()).toEqual(Object.keys(first.archives).sort());

    const before = requests.length;
    const second = tinyDataset({ mirrors: at("good") }); // a fresh registry entry: not in the in-memory cache
    await loadMnist({ dataset: second.info, cacheDir, download: false });
    expect(requests.length).toBe(before); // served from the cache
    expect(notes).toEqual([]);
    await rm(cacheDir, { recursive: true });
  });

  it("tries user mirrors first", async () => {
    const cacheDir = await tempDir();
    const ds = tinyDataset({ mirrors: at("stall") });
    const before = count("stall");
    await loadMnist({ dataset: ds.info, cacheDir, mirrors: at("good"), ...fast() });
    expect(count("stall")).toBe(before); // the registry's (stalling) mirror was never needed
    await rm(cacheDir, { recursive: true });
  });

  it("asks a mirror that failed for good (403, 404, wrong bytes, refused) once per load, not once per file", async () => {
    const cacheDir = await tempDir();
    const ds = tinyDataset({ mirrors: [...at("forbidden", "missing", "wrong"), refused, ...at("good")] });
    const before = { forbidden: count("forbidden"), missing: count("missing"), wrong: count("wrong") };
    const { test } = await loadMnist({ dataset: ds.info, cacheDir, ...fast() });
    expect(test.labels.length).toBe(3);
    // Four files: the first file found each bad mirror bad; the other three went straight to the good one.
    expect(count("forbidden") - before.forbidden).toBe(1);
    expect(count("missing") - before.missing).toBe(1);
    expect(count("wrong") - before.wrong).toBe(1);
    expect(count("good")).toBeGreaterThanOrEqual(4);
    await rm(cacheDir, { recursive: true });
  });

  it("charges a stalled mirror's waiting to one budget for the whole load", async () => {
    const cacheDir = await tempDir();
    const ds = tinyDataset({ mirrors: at("stall", "silent", "good") });
    const before = { stall: count("stall"), silent: count("silent") };
    // timeout 0.3 s, budget 0.6 s: two stalls each, on the first file, and never asked again.
    await loadMnist({ dataset: ds.info, cacheDir, ...fast() });
    expect(count("stall") - before.stall).toBe(2);
    expect(count("silent") - before.silent).toBe(2);
    await rm(cacheDir, { recursive: true });
  });

  it("fails with one summary line first, and keeps the DownloadError when local copies were rejected too", async () => {
    const cacheDir = await tempDir();
    const dir = await tempDir();
    const ds = tinyDataset({ mirrors: at("forbidden", "truncated") });
    // A corrupt copy of the first file in the user's folder.
    await writeFile(join(dir, file.name), file.gz.subarray(0, 20));
    const notes: string[] = [];
    const failure = loadMnist({ dataset: ds.info, dir, cacheDir, ...fast(), onNote: (x) => notes.push(x) });
    await expect(failure).rejects.toBeInstanceOf(DownloadError);
    const lines = (await messageOf(failure)).split("\n");
    expect(lines[0]).toBe(
      `${file.name}: download failed from all 2 mirrors; name a mirror that has it ` +
        `(--mirror URL or ZERODL_MIRRORS) or copy the file into ${join(cacheDir, "tiny")}`,
    );
    expect(lines.slice(1)).toEqual([
      `  ${base}/forbidden/${file.name}: HTTP 403 Forbidden`,
      `  ${base}/truncated/${file.name}: truncated: the server sends ${n >> 1} bytes, expected ${n}`,
      `  local copies rejected:`,
      expect.stringMatching(new RegExp(`^    dir: ${join(dir, file.name)}: corrupt gzip data`)),
    ]);
    expect(notes).toHaveLength(1);
    await rm(cacheDir, { recursive: true });
    await rm(dir, { recursive: true });
  });

  it("offline: never downloads, and says where to put the file", async () => {
    const cacheDir = await tempDir();
    const ds = tinyDataset({ mirrors: at("good") });
    const before = requests.length;
    const message = await messageOf(loadMnist({ dataset: ds.info, cacheDir, download: false }));
    expect(requests.length).toBe(before);
    expect(message.split("\n")[0]).toBe(
      `${file.name}: no valid copy, and downloads are off (offline); copy the file into ` +
        `${join(cacheDir, "tiny")} or allow downloads`,
    );
    await rm(cacheDir, { recursive: true });
  });

  it("takes unset settings from the environment (ZERODL_*)", async () => {
    const cacheDir = await tempDir();
    const saved = { ...process.env };
    try {
      process.env.ZERODL_MIRRORS = `${base}/forbidden/ ${base}/good/`;
      process.env.ZERODL_CACHE_DIR = cacheDir;
      const ds = tinyDataset();
      const before = count("forbidden");
      await loadMnist({ dataset: ds.info, ...fast() });
      expect(count("forbidden") - before).toBe(1);
      expect((await readdir(join(cacheDir, "tiny"))).length).toBe(4);

      // Offline from the environment; an option given in code wins over it.
      process.env.ZERODL_OFFLINE = "1";
      const offline = tinyDataset({ name: "offline" });
      await expect(loadMnist({ dataset: offline.info, ...fast() })).rejects.toThrow(/downloads are off/);
      const { train } = await loadMnist({ dataset: offline.info, download: true, ...fast() });
      expect(train.labels.length).toBe(6);
    } finally {
      process.env = saved;
    }
    await rm(cacheDir, { recursive: true });
  });
});

describe("downloadSettingsFromEnv", () => {
  it("reads every setting, in seconds where the variable says so", () => {
    expect(
      downloadSettingsFromEnv({
        ZERODL_MIRRORS: "https://a.example/m/, https://b.example/m/",
        ZERODL_OFFLINE: "yes",
        ZERODL_TIMEOUT: "2.5",
        ZERODL_RETRIES: "0",
        ZERODL_STALL_BUDGET: "4",
      }),
    ).toEqual({
      mirrors: ["https://a.example/m/", "https://b.example/m/"],
      download: false,
      timeoutMs: 2500,
      retries: 0,
      stallBudgetMs: 4000,
    });
    expect(downloadSettingsFromEnv({ ZERODL_OFFLINE: "0", ZERODL_TIMEOUT: " " })).toEqual({ download: true });
    expect(defaultCacheDir({ ZERODL_CACHE_DIR: "/tmp/z", XDG_CACHE_HOME: "/tmp/x" })).toBe("/tmp/z");
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/tmp/x" })).toBe("/tmp/x/zerodl");
  });

  it("names the variable whose value does not parse", () => {
    expect(() => downloadSettingsFromEnv({ ZERODL_RETRIES: "two" })).toThrow(
      new OptionError(`ZERODL_RETRIES="two": expected an integer ≥ 0`),
    );
    expect(() => downloadSettingsFromEnv({ ZERODL_TIMEOUT: "-1" })).toThrow(/^ZERODL_TIMEOUT="-1"/);
    expect(() => downloadSettingsFromEnv({ ZERODL_OFFLINE: "maybe" })).toThrow(
      `ZERODL_OFFLINE="maybe": expected 1 or 0`,
    );
  });
});

describe("MirrorBook", () => {
  it("keeps the first reason a mirror was dropped, and the stalled time", () => {
    const book = new MirrorBook();
    book.drop("https://a/", "HTTP 403, on x.gz");
    book.drop("https://a/", "later reason");
    book.chargeStall("https://b/", 300);
    book.chargeStall("https://b/", 200);
    expect(book.dropped("https://a/")).toBe("HTTP 403, on x.gz");
    expect(book.dropped("https://b/")).toBeUndefined();
    expect(book.stalledMs("https://b/")).toBe(500);
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
    const refusedFile = fetchSource(`${base}/forbidden/`)(file.name);
    await expect(refusedFile).rejects.toBeInstanceOf(DataError);
    await expect(refusedFile).rejects.toThrow(
      `${file.name}: ${base}/forbidden/${file.name} answered HTTP 403 Forbidden`,
    );
  });
});
