/**
 * Downloading a registry file: mirrors tried in turn, retries with back-off for transient
 * failures, an idle timeout that also catches a transfer stalling mid-body, and verification of
 * size and SHA-256 before the file is moved into place. The file appears under its final name only
 * by an atomic rename of verified bytes, so an interrupted or failed download leaves nothing that a
 * later run would trust (and every later run verifies again anyway).
 *
 * What a bad mirror may cost is bounded over the whole load of a dataset (a `MirrorBook` shared by
 * its four files), not per file:
 *   - a failure that trying again cannot fix (HTTP 403/404, a refused connection, an unknown host,
 *     the wrong size or content) drops the mirror for the load's other files at once;
 *   - time spent waiting on a stalled mirror is charged to its stall budget (default 15 s); once it
 *     is used up the mirror is dropped, so a stalled first mirror costs seconds, not minutes;
 *   - other transient failures (5xx, a connection cut mid-transfer) are retried `retries` times per
 *     file with doubling back-off.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { OptionError } from "../../errors.js";
import { concatBytes, formatBytes } from "../bytes.js";
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

/** The timers an attempt's idle timeout runs on. */
export interface DownloadTimers {
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DownloadOptions {
  /** An attempt fails after this long without a response or without new bytes (default 10 s). */
  timeoutMs?: number;
  /** Further attempts per mirror and file after a transient failure (default 2). */
  retries?: number;
  /** Wait before the first retry; doubled for each further one (default 1 s). */
  backoffMs?: number;
  /**
   * Waiting on a stalled mirror is charged to this budget, over all the files of one load; when it
   * is used up the mirror is not tried again in that load (default 15 s).
   */
  stallBudgetMs?: number;
  onProgress?: (p: DownloadProgress) => void;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /**
   * The timers of the idle timeout (default the global setTimeout/clearTimeout). Tests pass timers
   * they fire by hand, so that no outcome depends on how fast the machine is.
   */
  timers?: DownloadTimers;
}

export const downloadDefaults = {
  timeoutMs: 10_000,
  retries: 2,
  backoffMs: 1000,
  stallBudgetMs: 15_000,
} as const;

/**
 * No mirror delivered the file. The message's first line says which file, that the download
 * failed, and what to do; the lines after it name each mirror and what went wrong there.
 */
export class DownloadError extends DataError {
  override name = "DownloadError";
  constructor(
    /** The archive's name. */
    readonly file: string,
    /** The first line: the file, what failed, what to do. */
    readonly summary: string,
    /** One line per mirror (and per rejected local copy), indented. */
    readonly details: readonly string[],
  ) {
    super(details.length > 0 ? `${summary}\n${details.join("\n")}` : summary);
  }
}

/** Why one attempt failed, and what that means for trying again. */
class AttemptError extends Error {
  constructor(
    message: string,
    /** "retry": may work next time; "drop": this mirror is no use for this load; "stall": charged to the stall budget. */
    readonly kind: "retry" | "drop" | "stall",
    readonly waitedMs = 0,
  ) {
    super(message);
  }
}

/**
 * What each mirror has cost during one load: the first failure that retrying cannot fix, and the
 * stalled time charged so far. Shared by the downloads of a dataset's files.
 */
export class MirrorBook {
  readonly #dropped = new Map<string, string>();
  readonly #stalledMs = new Map<string, number>();

  /** Why `base` is not tried any more in this load, or undefined. */
  dropped(base: string): string | undefined {
    return this.#dropped.get(base);
  }

  drop(base: string, why: string): void {
    if (!this.#dropped.has(base)) this.#dropped.set(base, why);
  }

  stalledMs(base: string): number {
    return this.#stalledMs.get(base) ?? 0;
  }

  chargeStall(base: string, ms: number): void {
    this.#stalledMs.set(base, this.stalledMs(base) + ms);
  }
}

/** A base URL as given by a user, checked: http or https, ending in "/". */
export function mirrorBase(mirror: string): string {
  let url: URL;
  try {
    url = new URL(mirror.endsWith("/") ? mirror : `${mirror}/`);
  } catch {
    throw new OptionError(`mirror "${mirror}" is not a URL; expected e.g. https://example.org/mnist/`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OptionError(`mirror "${mirror}": only http and https mirrors are supported`);
  }
  return url.href;
}

/**
 * Downloads `file` from the first of `mirrors` (base URLs) that serves it intact and stores it as
 * `destDir/<file.name>`. Returns the verified archive bytes. `book` carries what the mirrors cost
 * over the files of one load (a fresh one when the file is downloaded alone).
 */
export async function downloadFile(
  file: DataFile,
  mirrors: readonly string[],
  destDir: string,
  options: DownloadOptions = {},
  book: MirrorBook = new MirrorBook(),
): Promise<Uint8Array> {
  const { retries, backoffMs, stallBudgetMs, timeoutMs } = { ...downloadDefaults, ...definedOnly(options) };
  checkSetting("timeoutMs", timeoutMs, 1);
  checkSetting("stallBudgetMs", stallBudgetMs, 1);
  checkSetting("backoffMs", backoffMs, 0);
  checkSetting("retries", retries, 0, true);
  const bases = [...new Set(mirrors.map(mirrorBase))];
  const failures: string[] = [];
  for (const base of bases) {
    const url = new URL(file.name, base).href;
    const skip = book.dropped(base);
    if (skip !== undefined) {
      failures.push(`  ${url}: not tried (${skip})`);
      continue;
    }
    for (let attempt = 0; ; attempt++) {
      const idleMs = Math.min(timeoutMs, stallBudgetMs - book.stalledMs(base));
      try {
        const bytes = await fetchArchive(url, file, idleMs, options);
        await writeAtomically(destDir, file.name, bytes);
        return bytes;
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e; // not the mirror's fault (e.g. cannot write the cache)
        const tries = attempt > 0 ? ` (${attempt + 1} attempts)` : "";
        if (e.kind === "stall") {
          book.chargeStall(base, e.waitedMs);
          if (book.stalledMs(base) < stallBudgetMs) {
            continue; // the rest of the budget is the next attempt's limit
          }
          const why = `stalled for ${seconds(book.stalledMs(base))} s in all, the stall budget`;
          book.drop(base, `${why}, on ${file.name}`);
          failures.push(`  ${url}: ${e.message}${tries}; ${why}: not tried again`);
          break;
        }
        if (e.kind === "retry" && attempt < retries) {
          await sleep(backoffMs * 2 ** attempt);
          continue;
        }
        if (e.kind === "drop") book.drop(base, `${e.message}, on ${file.name}`);
        failures.push(`  ${url}: ${e.message}${tries}`);
        break;
      }
    }
  }
  const count = bases.length === 1 ? "its one mirror" : `all ${bases.length} mirrors`;
  const summary =
    bases.length === 0
      ? `${file.name}: download failed: no mirror to download from`
      : `${file.name}: download failed from ${count}`;
  throw new DownloadError(file.name, `${summary}; ${whatToDo(destDir)}`, failures);
}

/** The advice on a download error's summary line. */
export function whatToDo(cacheDir: string): string {
  return `name a mirror that has it (--mirror URL or ZERODL_MIRRORS) or copy the file into ${cacheDir}`;
}

/** One attempt: the whole body, checked against the published size and SHA-256. */
async function fetchArchive(
  url: string,
  file: DataFile,
  idleMs: number,
  options: DownloadOptions,
): Promise<Uint8Array> {
  const timers = options.timers ?? realTimers;
  const expected = file.gz.bytes;
  const controller = new AbortController();
  let responded = false;
  let received = 0;
  let timedOut = false;
  let timer: unknown;
  const armTimer = () => {
    timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, idleMs);
  };
  const stalled = () =>
    new AttemptError(
      !responded
        ? `stalled: no response within ${seconds(idleMs)} s`
        : `stalled: no data for ${seconds(idleMs)} s after ${received} of ${expected} bytes`,
      "stall",
      idleMs,
    );

  const started = performance.now();
  const report = (done: boolean) => {
    const elapsed = (performance.now() - started) / 1000;
    const bytesPerSecond = elapsed > 0 ? received / elapsed : 0;
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
      if (timedOut) throw stalled();
      const { text, permanent } = describeNetworkError(e);
      throw new AttemptError(text, permanent ? "drop" : "retry");
    }
    responded = true;
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      const transient = response.status >= 500 || response.status === 408 || response.status === 429;
      throw new AttemptError(
        `HTTP ${response.status} ${response.statusText}`.trim(),
        transient ? "retry" : "drop",
      );
    }
    const announced = Number(response.headers.get("content-length") ?? NaN);
    if (Number.isFinite(announced) && announced !== expected) {
      await response.body?.cancel().catch(() => {});
      const what = announced < expected ? "truncated" : "too long";
      throw new AttemptError(`${what}: the server sends ${announced} bytes, expected ${expected}`, "drop");
    }

    const chunks: Uint8Array[] = [];
    if (!response.body) throw new AttemptError("empty response", "retry");
    const reader = response.body.getReader();
    armTimer();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        if (received > expected) {
          await reader.cancel().catch(() => {});
          throw new AttemptError(`too long: more than the published ${expected} bytes`, "drop");
        }
        chunks.push(value);
        armTimer();
        report(false);
      }
    } catch (e) {
      if (e instanceof AttemptError) throw e;
      if (timedOut) throw stalled();
      throw new AttemptError(
        `truncated: the connection was lost after ${received} of ${expected} bytes (${describeNetworkError(e).text})`,
        "retry",
      );
    }
    report(true);
    if (received < expected) {
      throw new AttemptError(
        `truncated: the transfer ended after ${received} of ${expected} bytes (${formatBytes(expected)})`,
        "retry",
      );
    }
    const bytes = concatBytes(chunks);
    try {
      await checkArchive(bytes, file, url);
    } catch (e) {
      // The right size with the wrong content: the mirror serves another file; retrying will not help.
      throw new AttemptError((e as Error).message.replace(`${url}: `, ""), "drop");
    }
    return bytes;
  } finally {
    timers.clearTimeout(timer);
  }
}

const realTimers: DownloadTimers = {
  setTimeout: (fire, ms) => setTimeout(fire, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout> | undefined),
};

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

/**
 * Failures to reach a host that will not go away by themselves: nobody listens there, the name does
 * not resolve, or its certificate is not trusted.
 */
const PERMANENT_NETWORK_ERRORS = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
]);

/** Node's fetch hides the useful part (ECONNREFUSED, ENOTFOUND, …) in `cause`. */
function describeNetworkError(e: unknown): { text: string; permanent: boolean } {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const code = err.cause?.code;
  const cause = code ?? err.cause?.message;
  return {
    text: cause ? `${err.message} (${cause})` : err.message,
    permanent: code !== undefined && PERMANENT_NETWORK_ERRORS.has(code),
  };
}

function checkSetting(name: string, value: number, min: number, integer = false): void {
  if (!(Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value)))) {
    throw new OptionError(
      `${name} ${JSON.stringify(value)}: expected ${integer ? "an integer" : "a number"} ≥ ${min}`,
    );
  }
}

/** The options that are set: `{ timeoutMs: undefined }` keeps the default. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
