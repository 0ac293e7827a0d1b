/** Errors that name the problem and the values involved. */

export function formatShape(shape: readonly number[]): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

/** Thrown when two arrays (or an array and an expectation) do not fit together. */
export class ShapeError extends Error {
  override name = "ShapeError";
}

/** Throws a ShapeError naming both shapes unless `ok` holds. */
export function assertShapes(
  ok: boolean,
  what: string,
  a: readonly number[],
  b: readonly number[],
  aName = "got",
  bName = "expected",
): void {
  if (!ok) throw new ShapeError(`${what}: ${aName} ${formatShape(a)}, ${bName} ${formatShape(b)}`);
}

/**
 * For what a batch of no samples has no value of (a mean loss, an accuracy). Layers and predict
 * take empty batches (N = 0) and give empty outputs.
 */
export function emptyBatch(what: string, value: string): ShapeError {
  return new ShapeError(`${what}: the batch is empty (N = 0): ${value} of no samples is undefined`);
}

/** Thrown for a bad option value; names the option, the value and what is allowed. */
export class OptionError extends Error {
  override name = "OptionError";
}

export function unknownOption(what: string, value: unknown, valid: readonly string[]): OptionError {
  return new OptionError(`unknown ${what} ${JSON.stringify(value)}; valid: ${valid.join(", ")}`);
}

/**
 * Thrown where a NaN or ±Infinity would otherwise flow on silently: a model's input, a training
 * loss or gradient. The message names the tensor, where the value is and what to do.
 */
export class NonFiniteError extends Error {
  override name = "NonFiniteError";
}

/** Thrown by the Trainer when a loss or a gradient becomes non-finite: the run diverged. */
export class TrainingDivergedError extends NonFiniteError {
  override name = "TrainingDivergedError";
}

/** Why the WebGPU backend cannot run here: no `navigator.gpu`, no adapter, or no device. */
export class WebGPUUnavailableError extends Error {
  override name = "WebGPUUnavailableError";
}
