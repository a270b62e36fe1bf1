/**
 * History in this process's memory (one node). Bounded three ways: `size` publications and `ttlMs`
 * per channel (from its namespace), and `maxBytes` over all channels (the characters of the kept
 * data): past the cap, the channels published to least recently lose their history, whole, and
 * get a new epoch, so a client recovering from them learns `recovered: false` instead of a gap.
 * Each channel known here also counts CHANNEL_OVERHEAD_CHARS, so many channels with little data
 * are bounded by the cap too. A channel whose publications all expired keeps its offset and epoch:
 * a client that saw the last one recovers (nothing to replay); one that missed any does not.
 */
import { nanoid } from 'nanoid';
import type { HistoryLimits, HistoryStore, Position, StoredPublication } from './history.js';

interface Entry extends StoredPublication {
  /** When it stops being kept (Date.now() ms). */
  readonly until: number;
}

interface ChannelHistory {
  readonly epoch: string;
  top: number;
  /** Oldest first; `entries[0].offset` is the oldest kept. */
  entries: Entry[];
  /** Index of the oldest entry still kept (entries before it are trimmed lazily). */
  head: number;
  chars: number;
}

/** The default cap over every channel's kept data, characters (≈ bytes for ASCII JSON). */
export const DEFAULT_HISTORY_MAX_CHARS = 64 * 1024 * 1024;
/** What one channel's bookkeeping counts against the cap, characters. */
export const CHANNEL_OVERHEAD_CHARS = 128;

export class MemoryHistory implements HistoryStore {
  /** Map order is least recently published first. */
  private readonly channels = new Map<string, ChannelHistory>();
  private chars = 0;

  constructor(
    private readonly maxChars = DEFAULT_HISTORY_MAX_CHARS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Characters of data kept now, over every channel (a gauge). */
  get keptChars(): number {
    return this.chars;
  }

  append(channel: string, data: string, limits: HistoryLimits): Position {
    const now = this.now();
    const h = this.channels.get(channel) ?? this.create(channel);
    // Re-inserted: Map order is least recently published first.
    this.channels.delete(channel);
    this.channels.set(channel, h);
    h.top++;
    h.entries.push({ offset: h.top, data, until: now + limits.ttlMs });
    h.chars += data.length;
    this.chars += data.length;
    this.trim(h, now, limits.size);
    this.cap(channel);
    return { offset: h.top, epoch: h.epoch };
  }

  position(channel: string): Position {
    // Remembered from now on (with nothing kept), so a client told this epoch can recover later.
    const h = this.channels.get(channel) ?? this.create(channel);
    this.cap(channel);
    return { offset: h.top, epoch: h.epoch };
  }

  since(channel: string, offset: number, epoch: string, limit: number): StoredPublication[] | null {
    const h = this.channels.get(channel);
    if (h === undefined || h.epoch !== epoch || offset > h.top) return null;
    if (offset === h.top) return [];
    if (h.top - offset > limit) return null;
    this.expire(h, this.now());
    const first = h.entries[h.head];
    // The next one the client needs must still be kept.
    if (first === undefined || first.offset > offset + 1) return null;
    return h.entries.slice(h.head + (offset + 1 - first.offset)).map(({ offset: o, data }) => ({ offset: o, data }));
  }

  latest(channel: string, limit: number): StoredPublication[] {
    const h = this.channels.get(channel);
    if (h === undefined) return [];
    this.expire(h, this.now());
    return h.entries.slice(Math.max(h.head, h.entries.length - limit)).map(({ offset, data }) => ({ offset, data }));
  }

  private create(channel: string): ChannelHistory {
    const h: ChannelHistory = { epoch: nanoid(8), top: 0, entries: [], head: 0, chars: CHANNEL_OVERHEAD_CHARS };
    this.chars += CHANNEL_OVERHEAD_CHARS;
    this.channels.set(channel, h);
    return h;
  }

  private trim(h: ChannelHistory, now: number, size: number): void {
    while (h.entries.length - h.head > size) this.forget(h, h.head++);
    this.expire(h, now);
    if (h.head > 64 && h.head * 2 > h.entries.length) {
      h.entries = h.entries.slice(h.head);
      h.head = 0;
    }
  }

  private expire(h: ChannelHistory, now: number): void {
    while (h.head < h.entries.length && (h.entries[h.head] as Entry).until <= now) this.forget(h, h.head++);
  }

  private forget(h: ChannelHistory, index: number): void {
    const length = (h.entries[index] as Entry).data.length;
    h.chars -= length;
    this.chars -= length;
  }

  /** Drops whole channels, least recently published first, until under the cap (never `keep`). */
  private cap(keep: string): void {
    for (const [channel, h] of this.channels) {
      if (this.chars <= this.maxChars) return;
      if (channel !== keep) this.drop(channel, h);
    }
  }

  private drop(channel: string, h: ChannelHistory): void {
    this.chars -= h.chars;
    this.channels.delete(channel);
  }
}
