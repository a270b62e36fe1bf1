/**
 * Joins and leaves the server makes for connections it names (the push API's
 * `POST /api/subscriptions`): applied to this node's matching connections at once and carried to
 * every other node on the broker's control topic, where each applies it to its own. No namespace
 * rule applies (the server decides). Each connection is told with a `subscribed` / `unsubscribed`
 * frame without `uid` listing every channel it is in; `subscribed` leaves once the joins are live.
 */
import { z } from 'zod';
import type { ControlRouter } from '../broker/control.js';
import { idSchema, MAX_TARGET_IDS } from '../protocol.js';

const ids = z.array(idSchema).max(MAX_TARGET_IDS, `must list at most ${MAX_TARGET_IDS} ids`);

export const serverJoinsBody = z
  .object({
    users: ids.optional().describe('root ids: every connection of each user, on every node'),
    clients: ids.optional().describe('client ids: those connections, on whichever node holds them'),
    subscribe: ids.optional().describe('channels to join'),
    unsubscribe: ids.optional().describe('channels to leave (applied before the joins)'),
  })
  .superRefine((v, ctx) => {
    if ((v.users?.length ?? 0) + (v.clients?.length ?? 0) === 0) ctx.addIssue({ code: 'custom', path: [], message: 'no connections named: give users or clients' });
    if ((v.subscribe?.length ?? 0) + (v.unsubscribe?.length ?? 0) === 0) ctx.addIssue({ code: 'custom', path: [], message: 'nothing to do: give subscribe or unsubscribe' });
  });

export interface ServerJoins {
  readonly users: readonly string[];
  readonly clients: readonly string[];
  readonly subscribe: readonly string[];
  readonly unsubscribe: readonly string[];
}

const controlMessage = z.object({ v: z.literal(1), type: z.literal('joins'), users: ids, clients: ids, subscribe: ids, unsubscribe: ids });

/** Applies a change to this node's connections; returns how many it changed. */
export type ApplyJoins = (change: ServerJoins) => number;

/** Applies here and relays to the other nodes; listens for the other nodes' changes. */
export function relayServerJoins(control: ControlRouter, apply: ApplyJoins): (change: ServerJoins) => number {
  control.on('joins', controlMessage, (message) => apply(message));
  return (change) => {
    control.send('joins', { ...change });
    return apply(change);
  };
}
