/** The verdict of a namespace's subscribe walker, as a refusal to send (or null: allowed). */
import { HubError } from '../errors.js';
import type { WalkerOutcome } from '../walkers/runner.js';

/**
 * A subscribe walker allows by finishing normally; it denies by returning `false` (its last report)
 * or failing (a throw, a timeout). The refusal names the channel; a `walkerError` it threw gives its
 * message, anything else only that it refused.
 */
export function subscribeRefusal(ask: { channel: string; walker: string }, outcome: WalkerOutcome): HubError | null {
  const shown = `Channel "${ask.channel.slice(0, 128)}"`;
  if (outcome.ok) {
    const { reports } = outcome;
    return reports === '[false]' || reports.endsWith(',false]') ? new HubError('forbidden', `${shown} was refused by ${ask.walker}`) : null;
  }
  const { error } = outcome;
  if (error.code === 'walker_failed') return new HubError('forbidden', `${shown} was refused by ${ask.walker}: ${error.message}`);
  if (error.code === 'walker_timeout') return new HubError('forbidden', `${shown}: ${ask.walker} did not answer in time`);
  return new HubError('forbidden', `${shown} was refused by ${ask.walker} (${error.code})`);
}
