/**
 * The WebGPU checks of webgpu-page.ts in Node, on Dawn (the `webgpu` package) instead of a browser:
 * run by webgpu-node.spec.ts in a child process whose environment points Vulkan at a driver (there
 * Chromium's SwiftShader). Prints one JSON object: the adapter, the parity cases, float64 calls and
 * a short training run on WASM and WebGPU.
 */
import { create } from "webgpu";
import { fsSource } from "../../src/data/node/files.js";
import { api, configure } from "./webgpu-page.js";

const root = new URL("../..", import.meta.url);
configure({ gpu: create([]), mnist: fsSource(new URL("data/mnist/", root).pathname) });
const setup = await api.setup();
const result: Record<string, unknown> = { setup };
if (setup.error === undefined) {
  result.parity = await api.parity();
  result.float64 = await api.float64();
  result.training = await api.training(
    { kind: "two-layer", inputShape: [784], outputSize: 10, hiddenSize: 50 },
    "adam",
    10,
    500,
    100,
  );
}
console.log(JSON.stringify(result));
// Dawn's device keeps the event loop alive.
process.exit(0);
