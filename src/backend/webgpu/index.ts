import { WebGPUUnavailableError } from "../../errors.js";
import type { Kernels } from "../kernels.js";
import { GpuDevice } from "./device.js";
import { webgpuKernels } from "./kernels.js";

export { GpuDevice } from "./device.js";

export interface WebGPUOptions {
  /** Which adapter to ask for where there are several (a laptop's integrated or discrete GPU). */
  powerPreference?: GPUPowerPreference;
  /**
   * The WebGPU entry point to use instead of `navigator.gpu`: in Node, where there is no
   * `navigator.gpu`, the `GPU` object of an implementation such as the `webgpu` package
   * (`create([])`, Dawn). Only the first successful call's entry point is used.
   */
  gpu?: GPU;
}

/** The adapter the kernels run on, as it describes itself (SwiftShader is Chromium's CPU one). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
}

let instance: Promise<Kernels> | null = null;
/**
 * The entry point each device came from, kept for as long as the device lives: in Node, Dawn's
 * (the `webgpu` package) tears its instance down when its GPU object is collected, and the next
 * read-back then crashes the process (seen: SIGSEGV / "std::system_error: Invalid argument").
 */
const entryPoints = new WeakMap<GpuDevice, GPU>();

/**
 * The WebGPU kernels on this page's GPU: asks for an adapter and a device once (later calls return
 * the same kernels). Rejects with a WebGPUUnavailableError that says what is missing.
 */
export function initWebGPU(options: WebGPUOptions = {}): Promise<Kernels> {
  instance ??= create(options).catch((e: unknown) => {
    instance = null;
    throw e;
  });
  return instance;
}

async function create({ powerPreference, gpu: given }: WebGPUOptions): Promise<Kernels> {
  const gpu = given ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new WebGPUUnavailableError(
      "WebGPU is not available here: navigator.gpu is missing (a browser without WebGPU, a page that is not a secure context, Chromium on Linux without --enable-unsafe-webgpu, or Node without a WebGPU implementation: pass one as useWebGPU({ gpu }))",
    );
  }
  const adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : {});
  if (!adapter) {
    throw new WebGPUUnavailableError(
      "WebGPU is available but offers no adapter (no usable GPU or driver; Chromium on Linux needs --enable-unsafe-webgpu; Node's WebGPU packages need a Vulkan, Metal or Direct3D 12 driver)",
    );
  }
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize, maxBufferSize } });
  } catch (e) {
    throw new WebGPUUnavailableError(`the WebGPU adapter refused a device: ${String(e)}`);
  }
  const info = adapter.info;
  const dev = new GpuDevice(device, {
    vendor: info?.vendor ?? "",
    architecture: info?.architecture ?? "",
    description: info?.description ?? "",
  });
  entryPoints.set(dev, gpu);
  device.addEventListener("uncapturederror", (event) =>
    dev.fail((event as GPUUncapturedErrorEvent).error.message),
  );
  void device.lost.then((lost) => dev.fail(`the WebGPU device was lost: ${lost.message || lost.reason}`));
  return webgpuKernels(dev);
}

/** The device behind WebGPU kernels (for its adapter and memory figures). */
export function gpuDevice(k: Kernels): GpuDevice | null {
  return k.device instanceof GpuDevice ? k.device : null;
}
