/**
 * Revocations over the broker: a logout on one node reaches every node's in-memory list at once,
 * instead of within one store poll. The message is a versioned JSON object on the broker's
 * control topic; anything else there is ignored (logged once). What arrives is only ever a
 * revocation, so a bad message can downgrade sockets but never grant access.
 */
import { z } from 'zod';
import type { Broker } from '../broker/broker.js';
import type { Logger } from '../log.js';
import type { Revocations } from './revocations.js';

const revocationMessage = z.object({
  v: z.literal(1),
  type: z.literal('revocations'),
  tokens: z.array(z.object({ jti: z.string(), user_id: z.string(), expires_at: z.number(), revoked_at: z.number() })).max(1000),
  users: z.array(z.object({ user_id: z.string(), before: z.number(), revoked_at: z.number() })).max(1000),
});

export function relayRevocations(revocations: Revocations, broker: Broker, log: Logger): void {
  revocations.onLocalRevoke((changes) => broker.sendControl(JSON.stringify({ v: 1, type: 'revocations', tokens: changes.tokens, users: changes.users })));
  let badLogged = false;
  broker.onControl((text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = revocationMessage.safeParse(value);
    if (parsed.success) return revocations.receive({ tokens: parsed.data.tokens, users: parsed.data.users });
    // Another kind of control message (channels/server-joins.ts reads its own).
    if (typeof value === 'object' && value !== null && (value as { v?: unknown }).v === 1 && typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type !== 'revocations') return;
    if (!badLogged) log.warn('ignoring unreadable control messages from the broker', { sample: text.slice(0, 80) });
    badLogged = true;
  });
}
