// Node-only entry ("zerodl/node"): the public API plus the loaders that use the file system.
export * from "./index.js";
export { enableRelaxedSimd, RELAXED_SIMD_FLAG } from "./backend/node-relaxed.js";
export { fsSource, packageRoot, defaultCacheDir } from "./data/node/files.js";
export { downloadFile, DownloadError, MirrorBook, downloadDefaults } from "./data/node/download.js";
export type { DownloadOptions, DownloadProgress, DownloadTimers } from "./data/node/download.js";
export { progressBar } from "./data/node/progress-bar.js";
export { resolveDatasetFiles, placesFor, downloadSettingsFromEnv } from "./data/node/resolve.js";
export type { ResolveOptions } from "./data/node/resolve.js";
export { loadImageFolder, decodePng } from "./data/node/image-folder.js";
export { loadMnistCsv } from "./data/node/csv.js";
// cli branch (Node): model files, charts (SVG/PNG), picture input
export * from "./io/model-file.js";
export { writeFileAtomic } from "./io/atomic.js";
export * from "./io/image.js";
export * from "./plot/render.js";
export * from "./plot/charts.js";
// rnn branch: the language model's corpus
export { loadDevilsDictionary } from "./data/node/corpus.js";
// dcgan branch: generator files, image grids and the GAN's charts
export { loadGenerator } from "./io/generator-file.js";
export * from "./io/gan-checkpoint.js";
export * from "./plot/tiles.js";
export * from "./plot/gan-charts.js";
// rl branch (Node): agent files, episode pictures (PNG strip, GIF)
export * from "./rl/agent-file.js";
export * from "./rl/episode-image.js";
