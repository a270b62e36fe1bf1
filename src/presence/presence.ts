/**
 * Who is in a channel. One node answers from its registry (`LocalPresence`); a cluster keeps every
 * node's members in Redis (redis.ts), each entry refreshed by its node and expiring when the node
 * stops refreshing it (it died), so a dead node's members vanish within a stated bound.
 *
 * Only channels whose namespace has presence are tracked (see channels/policy.ts).
 */
import type { MaybePromise } from '../maybe.js';
import type { PresenceClient } from '../protocol.js';

export type { PresenceClient };

export interface PresenceStats {
  readonly num_clients: number;
  readonly num_users: number;
}

export interface Presence {
  /**
   * A local connection entered a presence channel, or changed its root while in one. A promise
   * when the write goes to a shared store: it settles (never rejects) once the store answered.
   */
  joined(channel: string, client: PresenceClient): Promise<void> | void;
  /** A local connection left a presence channel (or closed); like `joined`, a promise when shared. */
  left(channel: string, clientId: string): Promise<void> | void;
  /** Everyone in the channel on every node. Rejects when the shared store cannot be reached. */
  list(channel: string): MaybePromise<PresenceClient[]>;
  /** Removes this node's entries (a clean shutdown), bounded in time. */
  close(): Promise<void>;
}

export function statsOf(clients: readonly PresenceClient[]): PresenceStats {
  const users = new Set<string>();
  for (const c of clients) users.add(c.root_id);
  return { num_clients: clients.length, num_users: users.size };
}

/** The members a node holds, by channel (what the hub's registry knows). */
export type LocalMembers = (channel: string) => PresenceClient[];

/** One node: the registry is the truth, answered synchronously. */
export class LocalPresence implements Presence {
  constructor(private readonly members: LocalMembers) {}
  joined(): void {}
  left(): void {}
  list(channel: string): PresenceClient[] {
    return this.members(channel);
  }
  async close(): Promise<void> {}
}
