#!/usr/bin/env node
// A small static server for the browser demo: the page and its bundle from web/, the MNIST files
// from data/ (under /data/). Every response carries the cross-origin isolation headers, so the page
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
};

const isolation = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The file a URL path names, or null when it is outside the served folders. */
function resolvePath(urlPath) {
  const path = decodeURIComponent(urlPath);
  const [root, rest] = path.startsWith("/data/") ? [dataDir, path.slice("/data/".length)] : [webDir, path];
  const file = normalize(join(root, rest.endsWith("/") || rest === "" ? `${rest}index.html` : rest));
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}

async function handle(request, response, headers) {
  const send = (status, text) => {
    response.writeHead(status, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
    response.end(text);
  };
  if (request.method !== "GET" && request.method !== "HEAD") return send(405, "only GET and HEAD");
  let file;
  try {
    file = resolvePath(new URL(request.url ?? "/", "http://localhost").pathname);
  } catch {
    return send(400, "bad path");
  }
  if (!file) return send(403, "outside the served folders");
  let info;
  try {
    info = await stat(file);
  } catch {
    return send(404, `not found: ${request.url}`);
  }
  if (!info.isFile()) return send(404, `not a file: ${request.url}`);
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
