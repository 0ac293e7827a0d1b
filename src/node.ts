// Node-only entry ("zerodl/node"): the public API plus the loaders that use the file system.
export * from "./index.js";
export { fsSource, packageRoot, defaultCacheDir } from "./data/node/files.js";
export { downloadFile, DownloadError } from "./data/node/download.js";
export type { DownloadOptions, DownloadProgress } from "./data/node/download.js";
export { progressBar } from "./data/node/progress-bar.js";
export { resolveDatasetFiles, placesFor } from "./data/node/resolve.js";
export type { ResolveOptions } from "./data/node/resolve.js";
export { loadImageFolder, decodePng } from "./data/node/image-folder.js";
export { loadMnistCsv } from "./data/node/csv.js";
