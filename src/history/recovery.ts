/**
 * What a `subscribe` (with or without `since`) and a `history` frame get from history. Recovery is
 * all or nothing per channel: when the epoch matches and every publication after the client's
 * offset is still kept (and there are at most `maxRecovery` of them), exactly those are replayed,
 * in order; otherwise `recovered` is false and nothing is replayed.
 */
import type { ChannelPolicy } from '../channels/policy.js';
import { HubError } from '../errors.js';
import { encode, type HistoryPosition } from '../protocol.js';
import { publicationFrame, type HistoryLimits, type HistoryStore, type StoredPublication } from './history.js';
import type { RedisHistory } from './redis.js';

export interface SubscribeHistory {
  /** Every history channel joined: where it is now. */
  readonly positions: Record<string, HistoryPosition>;
  /** For each channel named in `since`: whether it was recovered (null when `since` was absent). */
  readonly recovered: Record<string, boolean> | null;
  /** The publication frames to send right after the reply, in order. */
  readonly replay: string[];
}

/** Null when none of the channels keeps history (then `subscribed` is today's frame). */
export function subscribeHistory(
  history: HistoryStore,
  policy: ChannelPolicy,
  channelIds: readonly string[],
  since: Readonly<Record<string, HistoryPosition>> | undefined,
): SubscribeHistory | null {
  let positions: Record<string, HistoryPosition> | null = null;
  const recovered: Record<string, boolean> | null = since === undefined ? null : {};
  const replay: string[] = [];
  for (const channel of new Set(channelIds)) {
    const limits = policy.historyOf(channel);
    const asked = since?.[channel];
    if (limits === null) {
      if (asked !== undefined && recovered !== null) recovered[channel] = false;
      continue;
    }
    const position = history.position(channel);
    (positions ??= {})[channel] = position;
    if (asked === undefined || recovered === null) continue;
    const missed = history.since(channel, asked.offset, asked.epoch, limits.maxRecovery);
    recovered[channel] = missed !== null;
    for (const p of missed ?? []) replay.push(publicationFrame(channel, { offset: p.offset, epoch: position.epoch }, p.data));
  }
  if (positions === null && recovered === null) return null;
  return { positions: positions ?? {}, recovered, replay };
}

export interface HistoryRead {
  readonly position: HistoryPosition;
  readonly publications: StoredPublication[];
}

/** The latest `limit` publications kept, or those after `since` (none when its epoch is not the channel's). */
export function readHistory(history: HistoryStore, channel: string, size: number, options: { limit?: number | undefined; since?: HistoryPosition | undefined }): HistoryRead {
  const position = history.position(channel);
  const limit = Math.min(options.limit ?? size, size);
  const since = options.since;
  let publications: StoredPublication[];
  if (since === undefined) publications = history.latest(channel, limit);
  else if (since.epoch !== position.epoch) publications = [];
  else publications = history.latest(channel, size).filter((p) => p.offset > since.offset).slice(0, limit);
  return { position, publications };
}

/** The `history` reply frame. */
export function historyReply(history: HistoryStore, channel: string, size: number, options: { limit?: number | undefined; since?: HistoryPosition | undefined }, uid: string | undefined): string {
  const { position, publications } = readHistory(history, channel, size, options);
  return encode.history(channel, position, publicationsJson(publications), uid);
}

/** `[{"offset":N,"data":D},...]` with each data's JSON text as kept. */
export function publicationsJson(publications: readonly StoredPublication[]): string {
  return `[${publications.map((p) => `{"offset":${p.offset},"data":${p.data}}`).join(',')}]`;
}

/** A channel's history as the server reads it (walkers, backends): no permission check; `forbidden` when the channel keeps none. */
export function serverHistory(
  history: HistoryStore,
  policy: ChannelPolicy,
  channel: string,
  options: { limit?: number | undefined; since?: HistoryPosition | undefined },
): { offset: number; epoch: string; publications: Array<{ offset: number; data: unknown }> } {
  const limits = policy.historyOf(channel);
  if (limits === null) throw new HubError('forbidden', `Channel "${channel.slice(0, 128)}" keeps no history`);
  const { position, publications } = readHistory(history, channel, limits.size, options);
  return { offset: position.offset, epoch: position.epoch, publications: publications.map((p) => ({ offset: p.offset, data: JSON.parse(p.data) as unknown })) };
}

/** `readHistory` on history kept in Redis: one read (the latest kept, filtered as `readHistory` does). */
export async function readSharedHistory(store: RedisHistory, channel: string, limits: HistoryLimits, options: { limit?: number | undefined; since?: HistoryPosition | undefined }): Promise<HistoryRead> {
  const limit = Math.min(options.limit ?? limits.size, limits.size);
  const since = options.since;
  const read = await store.read(channel, limits, { kind: 'latest', limit: since === undefined ? limit : limits.size });
  const kept = read.publications ?? [];
  let publications: StoredPublication[];
  if (since === undefined) publications = kept;
  else if (since.epoch !== read.position.epoch) publications = [];
  else publications = kept.filter((p) => p.offset > since.offset).slice(0, limit);
  return { position: read.position, publications };
}

/** The `history` reply frame, from history kept in Redis; rejects when Redis cannot answer. */
export async function historyReplyFrom(store: RedisHistory, channel: string, limits: HistoryLimits, options: { limit?: number | undefined; since?: HistoryPosition | undefined }, uid: string | undefined): Promise<string> {
  const { position, publications } = await readSharedHistory(store, channel, limits, options);
  return encode.history(channel, position, publicationsJson(publications), uid);
}

/** `serverHistory` on history kept in Redis: `history_unavailable` when Redis cannot answer. */
export async function sharedServerHistory(
  store: RedisHistory,
  policy: ChannelPolicy,
  channel: string,
  options: { limit?: number | undefined; since?: HistoryPosition | undefined },
): Promise<{ offset: number; epoch: string; publications: Array<{ offset: number; data: unknown }> }> {
  const limits = policy.historyOf(channel);
  if (limits === null) throw new HubError('forbidden', `Channel "${channel.slice(0, 128)}" keeps no history`);
  let read: HistoryRead;
  try {
    read = await readSharedHistory(store, channel, limits, options);
  } catch (err) {
    throw new HubError('history_unavailable', err instanceof Error ? err.message : String(err));
  }
  return { offset: read.position.offset, epoch: read.position.epoch, publications: read.publications.map((p) => ({ offset: p.offset, data: JSON.parse(p.data) as unknown })) };
}
