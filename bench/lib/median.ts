/** The median and the spread of repeated runs (how every repeated figure of a run is reported), and quantiles of samples. */
import type { Spread } from './results.js';

/**
 * The median run by `figure` among those that did not fail (the lower middle of an even count),
 * else the first. A whole run is kept, so the row's other figures come from the same run.
 */
export function pickMedian<R extends { error?: string }>(runs: readonly R[], figure: (r: R) => number): R | undefined {
  const ok = runs.filter((r) => !r.error && Number.isFinite(figure(r))).sort((a, b) => figure(a) - figure(b));
  return ok.length > 0 ? ok[Math.floor((ok.length - 1) / 2)] : runs[0];
}

/** min..max of a figure over the runs that did not fail. */
export function spreadOf<R extends { error?: string }>(runs: readonly R[], figure: (r: R) => number): Spread {
  const values = runs.filter((r) => !r.error).map(figure).filter(Number.isFinite);
  return { runs: values.length, min: values.length ? Math.min(...values) : Number.NaN, max: values.length ? Math.max(...values) : Number.NaN };
}

/** Nearest-rank quantile of an ascending array. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}
