/** The value a forward pass cached, or a clear error when backward comes before forward. */
export function cached<T>(value: T | null, layer: string): T {
  if (value === null) throw new Error(`${layer}.backward called before forward`);
  return value;
}
