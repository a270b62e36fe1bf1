/**
 * Measuring on fresh servers: start them all before anything is measured, measure each once, and
 * again (bounded) when other processes disturbed the measurement.
 */
import { isShuttingDown } from '../lib/children.js';
import type { ServerKind } from '../lib/messages.js';
import { launch, type Ctx, type Server } from './harness.js';

/** A failed run's note for the progress log. */
export const failed = (r: { error?: string }) => (r.error ? `  FAILED: ${r.error}` : '');

export interface Disturbed {
  readonly error?: string;
  readonly otherCpuSec: number;
  readonly seconds: number;
}

/** Cores' worth of CPU that processes outside the benchmark used during a measurement. */
const disturbance = (r: Disturbed) => r.otherCpuSec / r.seconds;

/**
 * Measures once on the launched server and, while other processes disturbed the measurement,
 * again on fresh servers (bounded by `params.retry`, started with `args`, as the first must have
 * been); keeps the least disturbed measurement.
 */
export async function measure<R extends Disturbed>(
  ctx: Ctx,
  kind: ServerKind,
  first: Promise<Server>,
  run: (server: Promise<Server>) => Promise<R>,
  args: readonly string[] = [],
): Promise<R & { attempts: number }> {
  const { retry } = ctx.params;
  if (isShuttingDown()) throw new Error('interrupted');
  let best = await run(first);
  let attempts = 1;
  if (isShuttingDown()) throw new Error('interrupted');
  while (!best.error && disturbance(best) > retry.busyCores && attempts < retry.maxAttempts && ctx.elapsedSec() < retry.budgetSec) {
    ctx.log(`  other processes kept ${disturbance(best).toFixed(2)} cores busy: measuring again on a fresh server`);
    const again = await run(launch(ctx, kind, args));
    attempts++;
    if (!again.error && disturbance(again) < disturbance(best)) best = again;
  }
  return { ...best, attempts };
}

/** Starts one server per run (with `args`), all at once, and returns when every one is up (or failed to start). */
export async function launchAll<T extends { kind: ServerKind }>(ctx: Ctx, runs: readonly T[], args: readonly string[] = []): Promise<(T & { server: Promise<Server> })[]> {
  ctx.log(`  starting ${runs.length} server processes`);
  const launched = runs.map((run) => ({ ...run, server: launch(ctx, run.kind, args) }));
  await Promise.allSettled(launched.map((l) => l.server));
  return launched;
}
