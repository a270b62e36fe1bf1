import type { DeliverLocally, Delivery } from '../broker/broker.js';
import { topics, type Publisher } from './connection.js';
import type { Registry } from './registry.js';
import type { Session } from './session.js';

/**
 * Local delivery of one encoded frame. Channels go through uWS topics (`publish` writes the same
 * bytes to every subscriber); users and clients, which map to a few sockets each, are sent to
 * directly. Each target connection gets the frame at most once per delivery, even when it sits in
 * several of the listed channels.
 */
export function createLocalDelivery(registry: Registry<Session>, publisher: Publisher): DeliverLocally {
  const served = new ServedCopies();
  return ({ kind, ids, frame, key }) => {
    if (key !== undefined && kind === 'channels') return served.deliver(registry, key, ids, frame);
    const unique = ids.length === 1 ? ids : [...new Set(ids)];
    switch (kind) {
      case 'clients':
        for (const id of unique) registry.get(id)?.handle.conn?.send(frame);
        return;
      case 'users':
        // A connection has one root, so users never overlap. Sent directly rather than through a
        // topic: uWS's publish cost grows with the topics each subscriber is in, and every socket
        // is already in its channel's topic.
        for (const id of unique) for (const clientId of registry.clientsOfUser(id) ?? []) registry.get(clientId)?.handle.conn?.send(frame);
        return;
      case 'channels': {
        if (unique.length === 1) {
          const id = unique[0] as string;
          if (registry.clientsInChannel(id)) publisher.publish(topics.channel(id), frame);
          return;
        }
        // Channels may share members: send once to the union.
        const seen = new Set<string>();
        for (const channel of unique) {
          for (const clientId of registry.clientsInChannel(channel) ?? []) seen.add(clientId);
        }
        for (const clientId of seen) registry.get(clientId)?.handle.conn?.send(frame);
        return;
      }
    }
  };
}

/**
 * Copies of one multi-channel notification from another node arrive once per channel (keyed by
 * origin and sequence, see broker/wire.ts). The clients served under each of the last
 * `MAX_SERVED_KEYS` keys are remembered, so a connection in several of those channels gets the
 * frame once; copies that arrive after their key was forgotten may repeat it.
 */
export const MAX_SERVED_KEYS = 1024;

class ServedCopies {
  private readonly served = new Map<string, Set<string>>();

  deliver(registry: Registry<Session>, key: string, ids: Delivery['ids'], frame: string): void {
    let seen = this.served.get(key);
    if (seen === undefined) {
      seen = new Set();
      this.served.set(key, seen);
      // Map iteration is insertion order: the first key is the oldest.
      if (this.served.size > MAX_SERVED_KEYS) this.served.delete(this.served.keys().next().value as string);
    }
    for (const channel of ids) {
      for (const clientId of registry.clientsInChannel(channel) ?? []) {
        if (seen.has(clientId)) continue;
        seen.add(clientId);
        registry.get(clientId)?.handle.conn?.send(frame);
      }
    }
  }
}
