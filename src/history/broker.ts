/**
 * Puts channel publications into history on their way to the broker. A `channels` delivery is
 * split: channels whose namespace keeps history each get their own `publication` frame (offset and
 * epoch of that channel, the data exactly as sent); the others get the frame as it was, together.
 * Hub frames (`system`: join/leave) never enter history.
 *
 * One node (history in memory): appending and delivering happen in one synchronous step, so every
 * member sees the offsets in order, and a recovery that reads history and joins in one step has no
 * seam. A cluster (history in Redis): the append script publishes the publication itself, and every
 * node, this one too, delivers it when it arrives from Redis, through `HistoryStreams`, which keeps
 * each channel's offsets in order (streams.ts). A publication Redis could not take is lost for
 * everyone, and the caller is told (the push API's 503, a walker's log line), never half-delivered.
 */
import type { Broker, DeliverLocally, Delivery, TargetKind } from '../broker/broker.js';
import { ForwardingBroker } from '../broker/forwarding.js';
import type { ChannelPolicy } from '../channels/policy.js';
import { HubError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MaybePromise } from '../maybe.js';
import { publicationFrame, type HistoryStore } from './history.js';
import type { RedisHistory } from './redis.js';
import type { HistoryStreams } from './streams.js';

/** History kept in Redis, and this node's view of each channel's stream. */
export interface SharedHistory {
  readonly store: RedisHistory;
  readonly streams: HistoryStreams;
  readonly log: Logger;
  /** Counts a publication Redis did not take. */
  failed(): void;
}

export class HistoryBroker extends ForwardingBroker {
  constructor(
    inner: Broker,
    private readonly policy: ChannelPolicy,
    private readonly history: HistoryStore | null,
    private readonly shared: SharedHistory | null = null,
  ) {
    super(inner);
  }

  override start(deliver: DeliverLocally): Promise<void> {
    const shared = this.shared;
    if (shared === null) return this.inner.start(deliver);
    shared.streams.start({
      deliver,
      fill: (channel, since) => {
        const limits = this.policy.historyOf(channel);
        if (limits === null) return Promise.reject(new Error('the channel keeps no history'));
        return shared.store.read(channel, limits, { kind: 'since', since, limit: limits.maxRecovery });
      },
      lost: (channel, from, reason) => shared.log.warn('a gap in a channel history stream could not be filled; its members were told recovered: false', { channel, from: from.offset, reason }),
    });
    return this.inner.start((delivery) => (delivery.position !== undefined ? shared.streams.live(delivery) : deliver(delivery)));
  }

  override track(kind: TargetKind, id: string): void {
    if (kind === 'channels' && this.shared !== null && this.policy.historyOf(id) !== null) this.shared.streams.track(id);
    this.inner.track(kind, id);
  }

  override untrack(kind: TargetKind, id: string): void {
    if (kind === 'channels' && this.shared !== null) this.shared.streams.forget(id);
    this.inner.untrack(kind, id);
  }

  /**
   * Publishes to channels; returns the offset each history channel got (empty when none keeps
   * history). `frame` is the data's JSON text. With history in Redis the offsets come once Redis
   * has taken the publications; a failure rejects with `history_unavailable`.
   */
  publishChannels(ids: readonly string[], frame: string): MaybePromise<Record<string, number>> {
    const offsets: Record<string, number> = {};
    let plain: string[] | null = null;
    let waits: Array<Promise<void>> | null = null;
    for (const channel of ids.length === 1 ? ids : new Set(ids)) {
      const limits = this.policy.historyOf(channel);
      if (limits === null) {
        (plain ??= []).push(channel);
        continue;
      }
      if (this.shared !== null) {
        const shared = this.shared;
        (waits ??= []).push(
          shared.store.append(channel, frame, limits).then(
            (position) => {
              offsets[channel] = position.offset;
            },
            (err: unknown) => {
              shared.failed();
              throw new HubError('history_unavailable', `Channel "${channel.slice(0, 128)}": ${err instanceof Error ? err.message : String(err)}`);
            },
          ),
        );
        continue;
      }
      const position = (this.history as HistoryStore).append(channel, frame, limits);
      offsets[channel] = position.offset;
      this.inner.publish({ kind: 'channels', ids: [channel], frame: publicationFrame(channel, position, frame) });
    }
    if (plain !== null) this.inner.publish({ kind: 'channels', ids: plain, frame });
    if (waits === null) return offsets;
    return Promise.all(waits).then(() => offsets);
  }

  override publish(delivery: Delivery): void {
    if (delivery.kind !== 'channels' || delivery.system === true) return this.inner.publish(delivery);
    const published = this.publishChannels(delivery.ids, delivery.frame);
    // A walker's publication: it cannot be told; the failure is counted and logged (rate-limited).
    if (published instanceof Promise) published.catch((err: unknown) => this.shared?.log.warn('a channel publication was not kept or sent', { error: err instanceof Error ? err.message : String(err) }));
  }
}
