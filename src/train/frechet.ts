/**
 * The Fréchet distance between two Gaussians fitted to feature vectors (Heusel et al. 2017, "FID"
 * when the features are Inception's): how far generated samples are from real ones, in a
 * classifier's feature space. All in float64 with plain loops: the matrices are d × d for a few
 * dozen features.
 */
import { ShapeError, formatShape } from "../errors.js";
import type { NDArray } from "../ndarray.js";

/** The mean (d,) and covariance (d × d, row-major, divided by N − 1) of N feature rows. */
export interface GaussianStats {
  mean: Float64Array;
  cov: Float64Array;
  /** The feature count d. */
  dim: number;
  /** The sample count N. */
  count: number;
}

/** Fits a Gaussian to the rows of features (N, d), N ≥ 2. */
export function gaussianStats(features: NDArray): GaussianStats {
  if (features.ndim !== 2 || features.shape[0] < 2) {
    throw new ShapeError(`gaussianStats: expected (N ≥ 2, d) features, got ${formatShape(features.shape)}`);
  }
  const [n, d] = features.shape;
  const x = features.data;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j] - mean[j];
    for (let j = 0; j < d; j++) {
      const r = row[j];
      if (r === 0) continue;
      for (let k = j; k < d; k++) cov[j * d + k] += r * row[k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const v = cov[j * d + k] / (n - 1);
      cov[j * d + k] = v;
      cov[k * d + j] = v;
    }
  }
  return { mean, cov, dim: d, count: n };
}

/**
 * d² = |μa − μb|² + tr(Σa) + tr(Σb) − 2·tr((Σa^½ Σb Σa^½)^½), the squared 2-Wasserstein distance
 * of the two Gaussians (what FID reports). tr((Σa Σb)^½) is computed through the symmetric
 * Σa^½ Σb Σa^½, whose eigenvalues are those of Σa Σb (a product of PSD matrices), so no
 * non-symmetric square root is needed; eigenvalues below 0 from round-off count as 0.
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim) throw new ShapeError(`frechetDistance: ${a.dim} features against ${b.dim}`);
  const d = a.dim;
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (a.mean[j] - b.mean[j]) ** 2;
  let traces = 0;
  for (let j = 0; j < d; j++) traces += a.cov[j * d + j] + b.cov[j * d + j];
  const rootA = psdSqrt(a.cov, d);
  const m = multiply(multiply(rootA, b.cov, d), rootA, d);
  symmetrize(m, d);
  let traceRoot = 0;
  for (const v of symmetricEigenvalues(m, d)) traceRoot += Math.sqrt(Math.max(0, v));
  // Round-off can leave a tiny negative value for identical inputs.
  return Math.max(0, meanTerm + traces - 2 * traceRoot);
}

/** The square root of a symmetric positive semi-definite matrix, V·diag(√λ)·Vᵀ. */
function psdSqrt(s: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(s, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const r = Math.sqrt(Math.max(0, values[k]));
    if (r === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k] * r;
      for (let j = 0; j < d; j++) out[i * d + j] += vik * vectors[j * d + k];
    }
  }
  return out;
}

function multiply(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let p = 0; p < d; p++) {
      const aip = a[i * d + p];
      if (aip === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] += aip * b[p * d + j];
    }
  }
  return out;
}

function symmetrize(m: Float64Array, d: number): void {
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const v = 0.5 * (m[i * d + j] + m[j * d + i]);
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
  }
}

export function symmetricEigenvalues(s: Float64Array, d: number): Float64Array {
  return symmetricEigen(s, d).values;
}

/**
 * Eigenvalues and eigenvectors (columns of `vectors`, row-major d × d) of a symmetric matrix, by
 * cyclic Jacobi rotations: each sweep zeroes every off-diagonal entry in turn, until they are all
 * below 1e-15 of the matrix's norm (quadratic convergence: about 10 sweeps for d = 50).
 */
export function symmetricEigen(s: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(s.subarray(0, d * d));
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let norm = 0;
  for (const x of a) norm += x * x;
  const tol = 1e-30 * norm;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off <= tol) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.4.1).
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - sn * akq;
          a[k * d + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - sn * aqk;
          a[q * d + k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - sn * vkq;
          v[k * d + q] = sn * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}
