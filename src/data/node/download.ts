/**
 * Downloading a registry file: mirrors tried in turn, retries with back-off for transient
 * failures, a timeout that also catches a transfer stalling mid-body, and verification of size
 * and SHA-256 before the file is moved into place. The file appears under its final name only by
 * an atomic rename of verified bytes, so an interrupted or failed download leaves nothing that a
 * later run would trust (and every later run verifies again anyway).
 */
import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatBytes } from "../bytes.js";
import { DataError } from "../errors.js";
import type { DataFile } from "../registry.js";
import { checkArchive } from "../verify.js";

export interface DownloadProgress {
  /** The archive's name, e.g. "train-images-idx3-ubyte.gz". */
  file: string;
  url: string;
  /** Bytes received so far, and the published size. */
  bytes: number;
  total: number;
  /** Average speed of this transfer so far. */
  bytesPerSecond: number;
  /** The transfer has ended (verified or not). */
  done: boolean;
}

export interface DownloadOptions {
  /** Give up on an attempt after this long without a response or without new bytes (default 30 s). */
  timeoutMs?: number;
  /** Further attempts per mirror after a transient failure (default 2). */
  retries?: number;
  /** Wait before the first retry; doubled for each further one (default 1 s). */
  backoffMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  fetch?: typeof fetch;
}

/** No mirror delivered the file; the message names each mirror and what went wrong there. */
export class DownloadError extends DataError {
  override name = "DownloadError";
}

/** Why one attempt failed, and whether trying the same URL again could help. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/**
 * Downloads `file` from the first of `mirrors` (base URLs) that serves it intact and stores it as
 * `destDir/<file.name>`. Returns the verified archive bytes.
 */
export async function downloadFile(
  file: DataFile,
  mirrors: readonly string[],
  destDir: string,
  options: DownloadOptions = {},
): Promise<Uint8Array> {
  const retries = options.retries ?? 2;
  const backoffMs = options.backoffMs ?? 1000;
  const failures: string[] = [];
  for (const base of mirrors) {
    const url = new URL(file.name, base.endsWith("/") ? base : `${base}/`).href;
    for (let attempt = 0; ; attempt++) {
      try {
        const bytes = await fetchArchive(url, file, options);
        await writeAtomically(destDir, file.name, bytes);
        return bytes;
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e; // not the mirror's fault (e.g. cannot write the cache)
        if (e.transient && attempt < retries) {
          await sleep(backoffMs * 2 ** attempt);
          continue;
        }
        const tries = attempt > 0 ? ` (${attempt + 1} attempts)` : "";
        failures.push(`  ${url}: ${e.message}${tries}`);
        break;
      }
    }
  }
  if (mirrors.length === 0) throw new DownloadError(`${file.name}: no mirror to download from`);
  throw new DownloadError(`${file.name}: download failed from every mirror:\n${failures.join("\n")}`);
}

/** One attempt: the whole body, checked against the published size and SHA-256. */
async function fetchArchive(url: string, file: DataFile, options: DownloadOptions): Promise<Uint8Array> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const expected = file.gz.bytes;
  const controller = new AbortController();
  let received = 0;
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const armTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  const stalled = () =>
    new AttemptError(
      received === 0
        ? `no response within ${timeoutMs / 1000} s`
        : `stalled: no data for ${timeoutMs / 1000} s after ${received} of ${expected} bytes`,
      true,
    );

  const started = performance.now();
  const report = (done: boolean) => {
    const seconds = (performance.now() - started) / 1000;
    const bytesPerSecond = seconds > 0 ? received / seconds : 0;
    options.onProgress?.({ file: file.name, url, bytes: received, total: expected, bytesPerSecond, done });
  };

  armTimer();
  try {
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(url, {
        signal: controller.signal,
        headers: { "user-agent": "zerodl (https://www.npmjs.com/package/zerodl)" },
      });
    } catch (e) {
      throw timedOut ? stalled() : new AttemptError(describeNetworkError(e), true);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      const transient = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new AttemptError(`HTTP ${response.status} ${response.statusText}`.trim(), transient);
    }
    const announced = Number(response.headers.get("content-length") ?? NaN);
    if (Number.isFinite(announced) && announced !== expected) {
      await response.body?.cancel().catch(() => {});
      const what = announced < expected ? "truncated" : "too long";
      throw new AttemptError(`${what}: the server sends ${announced} bytes, expected ${expected}`, false);
    }

    const chunks: Uint8Array[] = [];
    if (!response.body) throw new AttemptError("empty response", true);
    const reader = response.body.getReader();
    armTimer();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        if (received > expected) {
          await reader.cancel().catch(() => {});
          throw new AttemptError(`too long: more than the published ${expected} bytes`, false);
        }
        chunks.push(value);
        armTimer();
        report(false);
      }
    } catch (e) {
      if (e instanceof AttemptError) throw e;
      throw timedOut
        ? stalled()
        : new AttemptError(
            `connection lost after ${received} of ${expected} bytes (${describeNetworkError(e)})`,
            true,
          );
    }
    report(true);
    if (received < expected) {
      throw new AttemptError(
        `truncated: got ${received} of ${expected} bytes (${formatBytes(expected)})`,
        true,
      );
    }
    const bytes = concat(chunks, received);
    try {
      await checkArchive(bytes, file, url);
    } catch (e) {
      // The right size with the wrong content: the mirror serves another file; retrying will not help.
      throw new AttemptError((e as Error).message.replace(`${url}: `, ""), false);
    }
    return bytes;
  } finally {
    clearTimeout(timer);
  }
}

/** Writes under a temporary name in the same folder, then renames: readers never see a partial file. */
async function writeAtomically(dir: string, name: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${name}.${process.pid}.${randomUUID().slice(0, 8)}.part`);
  try {
    await writeFile(temp, bytes);
    await rename(temp, join(dir, name));
  } catch (e) {
    await rm(temp, { force: true });
    throw new DataError(`${join(dir, name)}: cannot store the download: ${(e as Error).message}`);
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function describeNetworkError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : err.message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
