/**
 * Puts channel publications into history on their way to the broker. A `channels` delivery is
 * split: channels whose namespace keeps history each get their own `publication` frame (offset and
 * epoch of that channel, the data exactly as sent); the others get the frame as it was, together.
 * Appending and delivering happen in one synchronous step, so on one node every member sees the
 * offsets in order, and a recovery that reads history and joins in one step has no seam.
 * Hub frames (`system`: join/leave) never enter history.
 */
import type { Broker, Delivery } from '../broker/broker.js';
import { ForwardingBroker } from '../broker/forwarding.js';
import type { ChannelPolicy } from '../channels/policy.js';
import { publicationFrame, type HistoryStore } from './history.js';

export class HistoryBroker extends ForwardingBroker {
  constructor(
    inner: Broker,
    private readonly policy: ChannelPolicy,
    private readonly history: HistoryStore,
  ) {
    super(inner);
  }

  /**
   * Publishes to channels; returns the offset each history channel got (empty when none keeps
   * history). `frame` is the data's JSON text.
   */
  publishChannels(ids: readonly string[], frame: string): Record<string, number> {
    const offsets: Record<string, number> = {};
    let plain: string[] | null = null;
    for (const channel of ids.length === 1 ? ids : new Set(ids)) {
      const limits = this.policy.historyOf(channel);
      if (limits === null) {
        (plain ??= []).push(channel);
        continue;
      }
      const position = this.history.append(channel, frame, limits);
      offsets[channel] = position.offset;
      this.inner.publish({ kind: 'channels', ids: [channel], frame: publicationFrame(channel, position, frame) });
    }
    if (plain !== null) this.inner.publish({ kind: 'channels', ids: plain, frame });
    return offsets;
  }

  override publish(delivery: Delivery): void {
    if (delivery.kind !== 'channels' || delivery.system === true) return this.inner.publish(delivery);
    this.publishChannels(delivery.ids, delivery.frame);
  }
}
