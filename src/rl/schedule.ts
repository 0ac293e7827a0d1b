/**
 * ε-greedy exploration's schedule (Mnih et al. 2015): ε falls linearly from `start` to `end` over
 * the first `steps` environment steps, then stays at `end`.
 */
export interface EpsilonSchedule {
  start: number;
  end: number;
  steps: number;
}

export function checkSchedule(s: EpsilonSchedule): EpsilonSchedule {
  for (const key of ["start", "end"] as const) {
    if (!(s[key] >= 0 && s[key] <= 1))
      throw new RangeError(`epsilon ${key} must be in [0, 1], got ${s[key]}`);
  }
  if (!(Number.isInteger(s.steps) && s.steps >= 0)) {
    throw new RangeError(`epsilon steps must be an integer ≥ 0, got ${s.steps}`);
  }
  return s;
}

/** ε after `step` environment steps. */
export function epsilonAt(s: EpsilonSchedule, step: number): number {
  if (step >= s.steps) return s.end;
  return s.start + (s.end - s.start) * (step / s.steps);
}
