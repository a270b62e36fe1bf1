/**
 * History kept in the broker's Redis (plain or Cluster), so every node gives a channel the same
 * offsets and any node can serve a recovery. Appending and publishing are one script per
 * publication (redis-scripts.ts); reads are one script too, so a position and the publications
 * after it are read together. Every call has a deadline: a Redis that does not answer is a failed
 * call, never a hung one.
 */
import { nanoid } from 'nanoid';
import type { HistoryLink } from '../broker/pubsub.js';
import { hashedPart } from '../broker/slot.js';
import { WIRE_VERSION, HISTORY_ORIGIN_PREFIX } from '../broker/wire.js';
import type { HistoryLimits, Position, StoredPublication } from './history.js';
import { appendScript, readScript } from './redis-scripts.js';

/** How long a channel's epoch and last offset are kept after its last publication or read: at least a day. */
export const META_TTL_MIN_MS = 24 * 60 * 60 * 1000;

export interface StreamRead {
  readonly position: Position;
  /** The publications asked for, oldest first; null when a `since` read cannot be answered whole. */
  readonly publications: StoredPublication[] | null;
}

export type ReadMode = { readonly kind: 'position' } | { readonly kind: 'since'; readonly since: Position; readonly limit: number } | { readonly kind: 'latest'; readonly limit: number };

export class RedisHistory {
  constructor(
    private readonly link: HistoryLink,
    private readonly timeoutMs: number,
  ) {}

  /** Appends and publishes `data` (JSON text); resolves with its position once Redis has done both. */
  append(channel: string, data: string, limits: HistoryLimits): Promise<Position> {
    const topic = this.link.topic(channel);
    const head = `{"type":"publication","channel_id":${JSON.stringify(channel)},"offset":`;
    const args = [nanoid(8), limits.size, limits.ttlMs, metaTtlMs(limits), data, topic, this.link.publishCommand, `${WIRE_VERSION} ${HISTORY_ORIGIN_PREFIX}`, head];
    return this.call(this.link.runScript(appendScript, keysOf(topic), args)).then((reply) => {
      const [offset, epoch] = reply as [number, string];
      return { offset, epoch };
    });
  }

  read(channel: string, limits: HistoryLimits, mode: ReadMode): Promise<StreamRead> {
    const topic = this.link.topic(channel);
    const since = mode.kind === 'since' ? mode.since : { offset: 0, epoch: '' };
    const limit = mode.kind === 'position' ? 0 : mode.limit;
    const code = mode.kind === 'position' ? 'p' : mode.kind === 'since' ? 's' : 'l';
    const args = [nanoid(8), metaTtlMs(limits), limits.ttlMs, code, since.offset, since.epoch, limit];
    return this.call(this.link.runScript(readScript, keysOf(topic), args)).then((reply) => {
      const items = reply as Array<string | number>;
      const position = { epoch: String(items[0]), offset: Number(items[1]) };
      if (items[2] !== 1) return { position, publications: null };
      const publications: StoredPublication[] = [];
      for (let i = 3; i + 1 < items.length; i += 2) publications.push({ offset: Number(items[i]), data: String(items[i + 1]) });
      return { position, publications };
    });
  }

  /** Resolves once every publication Redis sent this node on the channel's topic before now has arrived. */
  barrier(channel: string): Promise<void> {
    return this.call(this.link.barrier(this.link.topic(channel)));
  }

  private call<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      timer.unref();
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}

/** The meta hash and the stream of a channel whose topic is `topic`: both in the topic's hash slot. */
export function keysOf(topic: string): [string, string] {
  const tag = `{${hashedPart(topic)}}`;
  return [`${tag}:hm:${topic}`, `${tag}:hs:${topic}`];
}

function metaTtlMs(limits: HistoryLimits): number {
  return Math.max(META_TTL_MIN_MS, limits.ttlMs);
}
