import type { WalkerContext } from 'walker-hub';

/**
 * Shared by the progress walkers (files starting with `_` are not loaded as walkers): reports
 * 0%..100% in steps of 20 to `notify`, as jac-cloud's progress examples do, with a report per step.
 */
export async function runProgress(ctx: WalkerContext, notify: (data: unknown) => void, delayMs: number): Promise<void> {
  for (let percent = 0; percent <= 100; percent += 20) {
    if (ctx.signal.aborted) return;
    const status = percent === 0 ? 'started' : percent === 100 ? 'completed' : 'inprogress';
    notify({ type: 'progress', data: { any_field: 'for_progress', progress: `${percent}%`, status } });
    ctx.report(`do something ${percent / 20 + 1}`);
    if (delayMs > 0 && percent < 100) await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
