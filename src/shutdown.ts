/**
 * Bounded closing: the hub's resources (listener, broker, throttles, store) close at once, and the
 * shutdown waits for them until one shared deadline, so a hung MongoDB or Redis cannot hold the
 * process past it. A step still running at the deadline is abandoned: it is logged, and its later
 * result (or failure) is only logged too.
 */
import type { Logger } from './log.js';

/** A named close step; `null` when the hub has nothing of that kind to close. */
export type CloseSteps = Record<string, (() => Promise<void>) | null>;

/** Runs every step at once and resolves when all have settled or `budgetMs` has passed; returns the names still running then. */
export async function closeWithin(steps: CloseSteps, budgetMs: number, log: Logger): Promise<string[]> {
  const running = new Set<string>();
  const settled: Array<Promise<void>> = [];
  for (const [name, step] of Object.entries(steps)) {
    if (step === null) continue;
    running.add(name);
    const late = () => !running.has(name);
    settled.push(
      Promise.resolve()
        .then(step)
        .then(
          () => {
            if (late()) log.info(`${name} closed after the shutdown deadline`);
          },
          (err: unknown) => log.warn(`${name} failed to close${late() ? ' (after the shutdown deadline)' : ''}`, { error: describe(err) }),
        )
        .finally(() => running.delete(name)),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
  });
  await Promise.race([Promise.all(settled), deadline]);
  clearTimeout(timer);
  const left = [...running];
  running.clear();
  if (left.length > 0) log.warn('shutdown deadline passed; abandoning what is still closing', { steps: left, budget_ms: budgetMs });
  return left;
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));
