/** Reconnect delays: exponential with full jitter, so clients dropped together do not return together. */

export interface BackoffOptions {
  /** First delay, ms (before jitter). */
  readonly minDelayMs: number;
  /** Largest delay, ms (before jitter). */
  readonly maxDelayMs: number;
  /** Growth per failed attempt. */
  readonly factor: number;
}

export const defaultBackoff: BackoffOptions = { minDelayMs: 500, maxDelayMs: 30_000, factor: 2 };

/**
 * Delay before reconnect attempt `attempt` (0 = the first after a drop): a random point in the
 * upper half of min(max, min * factor^attempt), so it never collapses to 0 (a tight loop) yet
 * spreads a crowd over half the window.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * options.factor ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
