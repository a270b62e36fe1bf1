/**
 * What happens when a connection enters or leaves a channel, by the channel's namespace: its
 * presence entry is written or removed, and with `join_leave` every member (on every node) gets a
 * `join` / `leave` frame. Channels of namespaces with neither cost one namespace lookup.
 *
 * With a shared presence store the frame is published once the store has answered the write, so a
 * member that got `join` (or `leave`) and then asks for presence, on any node, sees the change; the
 * writes of one node go over one connection in order, so its join and leave frames keep their order.
 */
import type { Presence } from '../presence/presence.js';
import { encode, type PresenceClient } from '../protocol.js';
import type { ChannelPolicy } from './policy.js';

/** Publishes a frame to a channel's members on every node. */
export type PublishToChannel = (channel: string, frame: string) => void;

export class Membership {
  constructor(
    private readonly policy: ChannelPolicy,
    private readonly presence: Presence,
    private readonly publish: PublishToChannel,
  ) {}

  /** `client` is in `channels` now; call after any reply it is owed went out, so its own `join` comes after it. */
  entered(client: PresenceClient, channels: Iterable<string>): void {
    for (const channel of channels) {
      const ns = this.policy.namespaceOf(channel);
      if (ns === null) continue;
      const written = ns.presence !== 'none' ? this.presence.joined(channel, client) : undefined;
      if (ns.options.join_leave) this.after(written, channel, encode.joinLeave('join', channel, client));
    }
  }

  /** `client` left `channels` (unsubscribed, or its socket closed). */
  left(client: PresenceClient, channels: Iterable<string>): void {
    for (const channel of channels) {
      const ns = this.policy.namespaceOf(channel);
      if (ns === null) continue;
      const written = ns.presence !== 'none' ? this.presence.left(channel, client.client_id) : undefined;
      if (ns.options.join_leave) this.after(written, channel, encode.joinLeave('leave', channel, client));
    }
  }

  /** `client` (now with its new root) changed user while in `channels`: presence shows the new root. */
  changedUser(client: PresenceClient, channels: Iterable<string>): void {
    for (const channel of channels) if (this.tracked(channel)) void this.presence.joined(channel, client);
  }

  /** Publishes `frame` now, or once the presence write has settled. */
  private after(written: Promise<void> | void, channel: string, frame: string): void {
    if (written instanceof Promise) void written.then(() => this.publish(channel, frame));
    else this.publish(channel, frame);
  }

  /** Whether `channel` is one whose members presence tracks. */
  tracked(channel: string): boolean {
    const ns = this.policy.namespaceOf(channel);
    return ns !== null && ns.presence !== 'none';
  }
}
