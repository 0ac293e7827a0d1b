import { OptionError } from "../errors.js";
import type { ModelKind, ModelSpec } from "./model.js";

/**
 * Checks a spec read from outside: its kind, that every key is one the model knows, and that
 * inputShape/outputSize are positive integers. Returns the spec without `kind`, as options.
 */
export function specOptions<S extends ModelSpec>(
  spec: S,
  kind: ModelKind,
  keys: readonly string[],
): Omit<S, "kind"> {
  if (spec.kind !== kind)
    throw new OptionError(`expected a "${kind}" model spec, got kind ${JSON.stringify(spec.kind)}`);
  const valid = ["kind", "inputShape", "outputSize", ...keys];
  for (const key of Object.keys(spec)) {
    if (!valid.includes(key)) {
      throw new OptionError(`${kind} model spec has no option "${key}"; valid: ${valid.join(", ")}`);
    }
  }
  const positive = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (!Array.isArray(spec.inputShape) || spec.inputShape.length === 0 || !spec.inputShape.every(positive)) {
    throw new OptionError(
      `${kind} model spec: inputShape must be a list of positive integers, got ${JSON.stringify(spec.inputShape)}`,
    );
  }
  if (!positive(spec.outputSize)) {
    throw new OptionError(
      `${kind} model spec: outputSize must be a positive integer, got ${JSON.stringify(spec.outputSize)}`,
    );
  }
  const { kind: _kind, ...options } = spec;
  return options;
}
