/**
 * What travels through Redis: topic names and the message text.
 *
 * Topic: `<prefix><k>:<id>`, k = u (user root id), c (channel), k (client id), b (broadcast: the one
 * topic `<prefix>b:*`, which a node holds while it has any local connection); `<prefix>ctl` carries
 * control messages. No hash tags, so in Redis Cluster topics spread over every shard.
 *
 * Message, version 1: `1 <origin> <seq> <body>` — origin is the publishing node's id (a node skips
 * its own), seq is 0 unless the notification went to several channels (then the copies share
 * origin:seq, so a connection in several of them is served once), body is the frame text as-is.
 *
 * A channel publication kept in history is published by the Redis script that gave it its offset
 * (history/redis-scripts.ts), as `1 h.<epoch> <offset> <publication frame>`: every node delivers
 * it from Redis, the publishing node too, so all of them see each channel's offsets in one order.
 */
import type { TargetKind } from './broker.js';
export { BROADCAST_ID } from './broker.js';

export const WIRE_VERSION = '1';

const letters: Record<TargetKind, string> = { users: 'u', channels: 'c', clients: 'k', broadcast: 'b' };
const kinds: Record<string, TargetKind> = { u: 'users', c: 'channels', k: 'clients', b: 'broadcast' };

export function targetTopic(prefix: string, kind: TargetKind, id: string): string {
  return `${prefix}${letters[kind]}:${id}`;
}

export function controlTopic(prefix: string): string {
  return `${prefix}ctl`;
}

export function parseTopic(prefix: string, topic: string): { kind: TargetKind; id: string } | null {
  if (!topic.startsWith(prefix) || topic.charAt(prefix.length + 1) !== ':') return null;
  const kind = kinds[topic.charAt(prefix.length)];
  return kind === undefined ? null : { kind, id: topic.slice(prefix.length + 2) };
}

/** The part before the body; built once per notification and shared by all its topics. */
export function messageHead(origin: string, seq: number): string {
  return `${WIRE_VERSION} ${origin} ${seq} `;
}

export interface WireMessage {
  readonly origin: string;
  readonly seq: number;
  readonly body: string;
}

/** Null for text this version cannot read (another version, or not ours). */
export function parseMessage(text: string): WireMessage | null {
  if (!text.startsWith(`${WIRE_VERSION} `)) return null;
  const originEnd = text.indexOf(' ', 2);
  if (originEnd < 0) return null;
  const seqEnd = text.indexOf(' ', originEnd + 1);
  if (seqEnd < 0) return null;
  const seq = Number(text.slice(originEnd + 1, seqEnd));
  if (!Number.isSafeInteger(seq) || seq < 0) return null;
  return { origin: text.slice(2, originEnd), seq, body: text.slice(seqEnd + 1) };
}

/** The origin of a history publication: `h.<epoch>` (node ids never contain a dot). */
export const HISTORY_ORIGIN_PREFIX = 'h.';

/** The epoch of a history publication's origin, or null for a node's own message. */
export function historyEpochOf(origin: string): string | null {
  return origin.startsWith(HISTORY_ORIGIN_PREFIX) ? origin.slice(HISTORY_ORIGIN_PREFIX.length) : null;
}
