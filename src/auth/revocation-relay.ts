/**
 * Revocations over the broker: a logout on one node reaches every node's in-memory list at once,
 * instead of within one store poll. The message is a `revocations` message on the broker's
 * control topic (broker/control.ts checks it against the schema below). What arrives is only ever a
 * revocation, so a bad message can downgrade sockets but never grant access.
 */
import { z } from 'zod';
import type { ControlRouter } from '../broker/control.js';
import type { Revocations } from './revocations.js';

const revocationMessage = z.object({
  v: z.literal(1),
  type: z.literal('revocations'),
  tokens: z.array(z.object({ jti: z.string(), user_id: z.string(), expires_at: z.number(), revoked_at: z.number() })).max(1000),
  users: z.array(z.object({ user_id: z.string(), before: z.number(), revoked_at: z.number() })).max(1000),
});

export function relayRevocations(revocations: Revocations, control: ControlRouter): void {
  revocations.onLocalRevoke((changes) => control.send('revocations', { tokens: changes.tokens, users: changes.users }));
  control.on('revocations', revocationMessage, (message) => revocations.receive({ tokens: message.tokens, users: message.users }));
}
