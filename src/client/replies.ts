/** Reading the hub's frames: connection ids, channel lists, presence, join/leave, and error replies as HubClientErrors. */
import { errorCatalogue } from '../errors.js';
import type { ConnectionInfo, HistoryPosition, PresenceClient, WireError } from '../protocol.js';
import { HubClientError } from './errors.js';
import type { Frame, History, MembershipChange, PresenceStats, SubscribedChannel } from './types.js';

export function connectionInfo(frame: Frame): ConnectionInfo | null {
  const data = frame['data'] as Partial<ConnectionInfo> | undefined;
  if (!data || typeof data.client_id !== 'string' || typeof data.root_id !== 'string' || typeof data.channel_id !== 'string') return null;
  return { client_id: data.client_id, root_id: data.root_id, channel_id: data.channel_id };
}

export function channelsOf(frame: Frame): string[] {
  const ids = frame['channel_ids'];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

function presenceClient(value: unknown): PresenceClient | null {
  const c = value as Partial<PresenceClient> | null;
  return typeof c === 'object' && c !== null && typeof c.client_id === 'string' && typeof c.root_id === 'string' ? { client_id: c.client_id, root_id: c.root_id } : null;
}

/** The members listed by a `presence` reply; null when the frame is not one. */
export function clientsOf(frame: Frame): PresenceClient[] | null {
  const list = frame['clients'];
  if (frame.type !== 'presence' || !Array.isArray(list)) return null;
  return list.map(presenceClient).filter((c): c is PresenceClient => c !== null);
}

export function statsOf(frame: Frame): PresenceStats | null {
  const { num_clients: clients, num_users: users } = frame;
  return frame.type === 'presence_stats' && typeof clients === 'number' && typeof users === 'number' ? { num_clients: clients, num_users: users } : null;
}

/** A `join` / `leave` frame as the hub writes it; null for any other shape (a peer's own payload). */
export function membershipOf(frame: Frame): MembershipChange | null {
  const client = presenceClient(frame['client']);
  const channel = frame['channel_id'];
  return client && typeof channel === 'string' ? { channel_id: channel, client } : null;
}

export function positionOf(value: unknown): HistoryPosition | null {
  const p = value as Partial<HistoryPosition> | null;
  return typeof p === 'object' && p !== null && typeof p.offset === 'number' && typeof p.epoch === 'string' ? { offset: p.offset, epoch: p.epoch } : null;
}

/** The history channels a `subscribed` reply names (in `positions` or `recovered`), each with its position and recovery. */
export function subscribedOf(frame: Frame): Array<Omit<SubscribedChannel, 'missed'>> {
  const positions = (frame['positions'] ?? {}) as Record<string, unknown>;
  const recovered = (frame['recovered'] ?? {}) as Record<string, unknown>;
  const ids = new Set([...Object.keys(positions), ...Object.keys(recovered)]);
  return [...ids].map((id) => {
    const r = recovered[id];
    return { channel_id: id, recovered: typeof r === 'boolean' ? r : null, position: positionOf(positions[id]) };
  });
}

/** A `history` reply; null when the frame is not one. */
export function historyOf(frame: Frame): History | null {
  const top = positionOf(frame);
  const list = frame['publications'];
  if (frame.type !== 'history' || !top || !Array.isArray(list)) return null;
  const publications = (list as Array<{ offset?: unknown; data?: unknown }>).filter((p): p is { offset: number; data: unknown } => typeof p?.offset === 'number');
  return { ...top, publications };
}

/** An error reply as a HubClientError; `error` frames carry no status, so it comes from the catalogue. */
export function errorOf(frame: Frame): HubClientError {
  const error = (frame['error'] as WireError | undefined) ?? { code: 'internal', message: 'malformed reply' };
  const status = typeof frame['status'] === 'number' ? frame['status'] : (errorCatalogue as Record<string, { status: number } | undefined>)[error.code]?.status ?? 0;
  return new HubClientError(status, error);
}
