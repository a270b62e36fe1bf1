import type { DeliverLocally, Delivery, TargetKind } from '../broker/broker.js';
import { topics, type Publisher } from './connection.js';
import type { Registry } from './registry.js';
import type { Session } from './session.js';

/**
 * Local delivery of one encoded frame. Channels and broadcasts go through uWS topics (`publish`
 * writes the same bytes to every subscriber); users and clients, which map to a few sockets each,
 * are sent to directly. Each target connection gets the frame at most once per delivery, even when
 * it sits in several of the listed channels. Returns the connections reached: counted with integer
 * adds on sets the registry already holds, so counting allocates nothing per socket.
 */
export function createLocalDelivery(registry: Registry<Session>, publisher: Publisher): DeliverLocally {
  const served = new ServedCopies();
  return ({ kind, ids, frame, key }) => {
    if (key !== undefined && kind === 'channels') return served.deliver(registry, key, ids, frame);
    const unique = ids.length === 1 ? ids : [...new Set(ids)];
    let reached = 0;
    switch (kind) {
      case 'clients':
        for (const id of unique) {
          const conn = registry.get(id)?.handle.conn;
          if (conn) {
            conn.send(frame);
            reached++;
          }
        }
        return reached;
      case 'users':
        // A connection has one root, so users never overlap. Sent directly rather than through a
        // topic: uWS's publish cost grows with the topics each subscriber is in, and every socket
        // is already in its channel's topic.
        for (const id of unique) {
          for (const clientId of registry.clientsOfUser(id) ?? []) {
            const conn = registry.get(clientId)?.handle.conn;
            if (conn) {
              conn.send(frame);
              reached++;
            }
          }
        }
        return reached;
      case 'channels': {
        if (unique.length === 1) {
          const members = registry.clientsInChannel(unique[0] as string);
          if (members) publisher.publish(topics.channel(unique[0] as string), frame);
          return members?.size ?? 0;
        }
        // Channels may share members: send once to the union.
        const seen = new Set<string>();
        for (const channel of unique) {
          for (const clientId of registry.clientsInChannel(channel) ?? []) seen.add(clientId);
        }
        for (const clientId of seen) {
          const conn = registry.get(clientId)?.handle.conn;
          if (conn) {
            conn.send(frame);
            reached++;
          }
        }
        return reached;
      }
      case 'broadcast': {
        // One publish to the topic every socket joined on open.
        const everyone = registry.counts().clients;
        if (everyone > 0) publisher.publish(topics.broadcast, frame);
        return everyone;
      }
    }
  };
}

/**
 * Copies of one multi-channel notification from another node arrive once per channel (keyed by
 * origin and sequence, see broker/wire.ts). For each of the last `MAX_SERVED_KEYS` keys the node
 * remembers only which of its channels it has delivered a copy to and when (a registry stamp) —
 * never which connections it served, so what it keeps does not grow with the members. A member of
 * the channel of a later copy is skipped when it was already in an earlier copy's channel at that
 * copy's delivery (so it got that one). A connection that left and rejoined that earlier channel
 * between two copies (within the broker's delivery of one notification) may get the frame twice;
 * copies that arrive after their key was forgotten may repeat it.
 */
export const MAX_SERVED_KEYS = 1024;

class ServedCopies {
  /** Key -> channel -> the registry stamp taken when that channel's copy was delivered. */
  private readonly served = new Map<string, Map<string, number>>();

  deliver(registry: Registry<Session>, key: string, ids: Delivery['ids'], frame: string): number {
    let delivered = this.served.get(key);
    if (delivered === undefined) {
      delivered = new Map();
      this.served.set(key, delivered);
      // Map iteration is insertion order: the first key is the oldest.
      if (this.served.size > MAX_SERVED_KEYS) this.served.delete(this.served.keys().next().value as string);
    }
    let reached = 0;
    for (const channel of ids) {
      if (delivered.has(channel)) continue;
      const members = registry.clientsInChannel(channel);
      if (members !== undefined) {
        for (const clientId of members) {
          const record = registry.get(clientId);
          if (record === undefined || servedBefore(record.channels, delivered)) continue;
          const conn = record.handle.conn;
          if (conn) {
            conn.send(frame);
            reached++;
          }
        }
      }
      delivered.set(channel, registry.stamp());
    }
    return reached;
  }
}

/** Whether a connection in `channels` (each with its join stamp) was in one of the `delivered` channels when that copy went out. */
function servedBefore(channels: ReadonlyMap<string, number>, delivered: ReadonlyMap<string, number>): boolean {
  if (delivered.size === 0) return false;
  // Walk the smaller of the two maps.
  if (delivered.size <= channels.size) {
    for (const [channel, at] of delivered) {
      const joined = channels.get(channel);
      if (joined !== undefined && joined < at) return true;
    }
    return false;
  }
  for (const [channel, joined] of channels) {
    const at = delivered.get(channel);
    if (at !== undefined && joined < at) return true;
  }
  return false;
}

/**
 * How many local connections a delivery of `kind` to `ids` would reach now, without sending: the
 * push API's `delivered` counts (the broker may deliver later, on another tick, or on other nodes).
 */
export function localReach(registry: Registry<Session>, kind: TargetKind, ids: readonly string[]): number {
  switch (kind) {
    case 'clients':
      return new Set(ids.filter((id) => registry.get(id) !== undefined)).size;
    case 'users': {
      let n = 0;
      for (const id of new Set(ids)) n += registry.clientsOfUser(id)?.size ?? 0;
      return n;
    }
    case 'channels': {
      const seen = new Set<string>();
      for (const id of ids) for (const clientId of registry.clientsInChannel(id) ?? []) seen.add(clientId);
      return seen.size;
    }
    case 'broadcast':
      return registry.counts().clients;
  }
}
