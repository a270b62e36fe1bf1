/**
 * The push API's bodies (zod; the OpenAPI document is generated from these same schemas). Two
 * forms of one notification: the hub's own (target lists and `data`, as the matching frames carry)
 * and the Directual "Send PUSH-message" step's (`user_id` or `*`, `event`, `message`).
 */
import { z } from 'zod';
import type { TargetKind } from '../broker/broker.js';
import { idSchema, MAX_TARGET_IDS } from '../protocol.js';

/** Notifications in one batch. */
export const MAX_BATCH = 1000;

const ids = z.array(idSchema).max(MAX_TARGET_IDS, `must list at most ${MAX_TARGET_IDS} ids`).optional();

export const targetedNotification = z
  .object({
    users: ids.describe('root ids: every connection of each user'),
    channels: ids.describe('channel ids: every connection in any of them (once each)'),
    clients: ids.describe('client ids: those connections'),
    broadcast: z.boolean().optional().describe('true: every connected client, public and authenticated (other targets are then ignored)'),
    data: z.unknown().describe('delivered exactly as given, like the data of a user/channel/client frame'),
  })
  .superRefine((v, ctx) => {
    const any = v.broadcast === true || (v.users?.length ?? 0) + (v.channels?.length ?? 0) + (v.clients?.length ?? 0) > 0;
    if (!any) ctx.addIssue({ code: 'custom', path: [], message: 'nothing to target: give users, channels or clients, or broadcast: true' });
  });

export const directualNotification = z.object({
  user_id: idSchema.describe('a root id, or "*" for every connected client'),
  event: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').describe('delivered as the frame\'s "type"'),
  message: z.unknown().optional().describe('delivered as the frame\'s "data" (null when absent)'),
});

/** The Directual form is told apart by its `user_id` or `event` key. */
export function isDirectual(value: unknown): boolean {
  return typeof value === 'object' && value !== null && ('user_id' in value || 'event' in value);
}

export const batchBody = z.object({
  notifications: z.array(z.unknown()).min(1, 'must list at least one notification').max(MAX_BATCH, `must list at most ${MAX_BATCH} notifications`),
});

/** One notification, resolved to the deliveries it makes (each one broker publish). */
export interface Planned {
  readonly deliveries: ReadonlyArray<{ readonly kind: TargetKind; readonly ids: readonly string[] }>;
  /** The frame as sent to every target, encoded once. */
  readonly frame: string;
}

export type PlanResult = { ok: true; plan: Planned } | { ok: false; issues: z.core.$ZodIssue[] };

/** Validates one notification (either form) and plans its deliveries. */
export function planNotification(value: unknown): PlanResult {
  if (isDirectual(value)) {
    const parsed = directualNotification.safeParse(value);
    if (!parsed.success) return { ok: false, issues: parsed.error.issues };
    const { user_id, event, message } = parsed.data;
    const frame = JSON.stringify({ type: event, data: message === undefined ? null : message });
    return { ok: true, plan: { frame, deliveries: user_id === '*' ? [{ kind: 'broadcast', ids: [] }] : [{ kind: 'users', ids: [user_id] }] } };
  }
  const parsed = targetedNotification.safeParse(value);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues };
  const n = parsed.data;
  const frame = JSON.stringify(n.data);
  if (n.broadcast === true) return { ok: true, plan: { frame, deliveries: [{ kind: 'broadcast', ids: [] }] } };
  const deliveries: Array<{ kind: TargetKind; ids: readonly string[] }> = [];
  if (n.users?.length) deliveries.push({ kind: 'users', ids: n.users });
  if (n.channels?.length) deliveries.push({ kind: 'channels', ids: n.channels });
  if (n.clients?.length) deliveries.push({ kind: 'clients', ids: n.clients });
  return { ok: true, plan: { frame, deliveries } };
}
