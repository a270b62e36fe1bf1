/**
 * Channel history: every publication to a channel whose namespace keeps history gets the next
 * per-channel offset (1, 2, 3, ... without gaps) and the channel's epoch, a short random string that
 * changes whenever the history could have been lost (this in-memory store: the process restarted,
 * or the channel's history was dropped to stay under the memory cap). A client that knows an offset
 * and epoch can ask for exactly what came after, or learn that it cannot have it.
 */

export interface Position {
  /** The last publication's offset (0 before the first). */
  readonly offset: number;
  readonly epoch: string;
}

export interface StoredPublication {
  readonly offset: number;
  /** The publication's data as JSON text, exactly as sent. */
  readonly data: string;
}

export interface HistoryLimits {
  /** Publications kept per channel. */
  readonly size: number;
  /** How long one is kept, ms. */
  readonly ttlMs: number;
}

export interface HistoryStore {
  /** Appends `data` (JSON text) and returns its position. */
  append(channel: string, data: string, limits: HistoryLimits): Position;
  /** Where the channel is now (offset 0 and a fresh epoch when it has no history here). */
  position(channel: string): Position;
  /**
   * The publications after `offset`, oldest first, at most `limit`; null when any of them is no
   * longer kept (expired, trimmed, or the epoch is not the channel's): never a partial answer.
   */
  since(channel: string, offset: number, epoch: string, limit: number): StoredPublication[] | null;
  /** The latest `limit` publications kept, oldest first. */
  latest(channel: string, limit: number): StoredPublication[];
}

/** The `publication` frame of one channel's publication; `data` is JSON text, inserted as is. */
export function publicationFrame(channel: string, position: Position, data: string): string {
  return `{"type":"publication","channel_id":${JSON.stringify(channel)},"offset":${position.offset},"epoch":${JSON.stringify(position.epoch)},"data":${data}}`;
}
