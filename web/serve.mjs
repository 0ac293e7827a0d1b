#!/usr/bin/env node
// A small static server for the browser playground: the page and its bundle from web/, the MNIST
// files from data/ (under /data/), Fashion-MNIST from data/fashion-mnist/ or else where Debian's
// dataset-fashion-mnist package puts it (under /data/fashion-mnist/), and the shipped pretrained
// models from models/ (under /models/). Every response carries the cross-origin isolation headers, so the page
// gets SharedArrayBuffer (shared WebAssembly memory, worker threads).
//
//   node web/serve.mjs [--port 8080] [--host 127.0.0.1] [--no-isolation]   (npm run serve:web; build first)
//
// --no-isolation leaves the headers out, as a static host that cannot set them would: the page then
// runs the WASM kernels on one thread.
//
// The test (test/browser/) imports startServer and listens on a random port.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import process from "node:process";
import { URL, fileURLToPath } from "node:url";

const webDir = fileURLToPath(new URL(".", import.meta.url));
const dataDir = fileURLToPath(new URL("../data/", import.meta.url));
const modelsDir = fileURLToPath(new URL("../models/", import.meta.url));
/** Fashion-MNIST: a copy in data/ first, else Debian's package (the loader verifies either by content). */
const fashionDirs = [join(dataDir, "fashion-mnist/"), "/usr/share/datasets/fashion-mnist/"];

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  // Served as bytes, never with Content-Encoding: the loader verifies the archive's own SHA-256.
  ".gz": "application/gzip",
  ".md": "text/plain; charset=utf-8",
  ".safetensors": "application/octet-stream",
};

const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** Where each URL prefix is served from (the first folder that holds the file wins). */
const mounts = [
  { prefix: "/data/fashion-mnist/", roots: fashionDirs },
  { prefix: "/data/", roots: [dataDir] },
  { prefix: "/models/", roots: [modelsDir] },
];

/** The files a URL path may name, in order of preference; empty when it is outside the served folders. */
function resolvePaths(urlPath) {
  const path = decodeURIComponent(urlPath);
  const mount = mounts.find((m) => path.startsWith(m.prefix));
  const [roots, rest] = mount ? [mount.roots, path.slice(mount.prefix.length)] : [[webDir], path];
  return roots.flatMap((root) => {
    const file = normalize(join(root, rest.endsWith("/") || rest === "" ? `${rest}index.html` : rest));
    return file.startsWith(root.endsWith(sep) ? root : root + sep) ? [file] : [];
  });
}

async function handle(request, response, headers) {
  const send = (status, text) => {
    response.writeHead(status, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
    response.end(text);
  };
  if (request.method !== "GET" && request.method !== "HEAD") return send(405, "only GET and HEAD");
  let files;
  try {
    files = resolvePaths(new URL(request.url ?? "/", "http://localhost").pathname);
  } catch {
    return send(400, "bad path");
  }
  if (files.length === 0) return send(403, "outside the served folders");
  let file;
  let info;
  for (const candidate of files) {
    info = await stat(candidate).catch(() => null);
    if (info?.isFile()) {
      file = candidate;
      break;
    }
  }
  if (!file) return send(404, `not found: ${request.url}`);
  response.writeHead(200, {
    ...headers,
    "Content-Type": types[extname(file)] ?? "application/octet-stream",
    "Content-Length": info.size,
    "Cache-Control": "no-cache",
  });
  if (request.method === "HEAD") return response.end();
  createReadStream(file).pipe(response);
}

/**
 * Starts the server; port 0 picks a free one. `isolated: false` leaves out the cross-origin
 * isolation headers. Resolves to its URL and a close function.
 */
export function startServer({ port = 0, host = "127.0.0.1", isolated = true } = {}) {
  const headers = isolated ? isolation : {};
  const server = createServer((request, response) => {
    handle(request, response, headers).catch((e) => {
      if (!response.headersSent) response.writeHead(500, headers);
      response.end(String(e));
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        url: `http://${host}:${address.port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const option = (name, fallback) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const port = Number(option("--port", process.env.PORT ?? 8080));
  const isolated = !process.argv.includes("--no-isolation");
  const { url } = await startServer({ port, host: option("--host", "127.0.0.1"), isolated });
  const how = isolated ? "cross-origin isolated" : "not isolated: one thread";
  process.stdout.write(`zerodl demo at ${url} (${how}; Ctrl-C stops)\n`);
}
