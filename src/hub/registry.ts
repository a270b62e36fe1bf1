/**
 * The local registries: clients by id, channel <-> clients and user (root id) -> clients.
 * Socket-free: a client record carries an opaque `handle` the caller gives it. Empty sets are
 * deleted, so after every client leaves all three maps are empty.
 *
 * `onTarget` hears when a user, channel or client gains its first member here (`present` true)
 * or loses its last (false): the broker subscribes to exactly the targets this node holds.
 */
import type { TargetKind } from '../broker/broker.js';

export type TargetListener = (kind: TargetKind, id: string, present: boolean) => void;

export interface ClientRecord<C> {
  readonly id: string;
  rootId: string;
  /** The channel from the connect URL (or a random one); reported in `connection` frames. */
  readonly primaryChannel: string;
  /** The channels it is in, each with the registry's stamp (see `stamp`) from when it joined. */
  readonly channels: Map<string, number>;
  readonly handle: C;
}

export interface RegistryCounts {
  clients: number;
  channels: number;
  users: number;
}

export class Registry<C> {
  private readonly clients = new Map<string, ClientRecord<C>>();
  private readonly channels = new Map<string, Set<string>>();
  private readonly users = new Map<string, Set<string>>();
  /** A counter shared by joins and `stamp()`: which happened first, without a clock. */
  private stamps = 0;

  constructor(private readonly onTarget: TargetListener | null = null) {}

  /** `joinPrimary` false: registered without being in its primary channel yet (it joins it later, by `join`). */
  add(id: string, rootId: string, primaryChannel: string, handle: C, joinPrimary = true): ClientRecord<C> {
    if (this.clients.has(id)) throw new Error(`client ${id} is already registered`);
    const record: ClientRecord<C> = { id, rootId, primaryChannel, channels: new Map(), handle };
    this.clients.set(id, record);
    this.onTarget?.('clients', id, true);
    this.addTo(this.users, 'users', rootId, id);
    if (joinPrimary) this.join(id, primaryChannel);
    return record;
  }

  get(id: string): ClientRecord<C> | undefined {
    return this.clients.get(id);
  }

  /** Returns true if the client was not already in the channel. */
  join(id: string, channel: string): boolean {
    const record = this.clients.get(id);
    if (!record || record.channels.has(channel)) return false;
    record.channels.set(channel, ++this.stamps);
    this.addTo(this.channels, 'channels', channel, id);
    return true;
  }

  /** Returns true if the client was in the channel. */
  leave(id: string, channel: string): boolean {
    const record = this.clients.get(id);
    if (!record || !record.channels.delete(channel)) return false;
    this.removeFrom(this.channels, 'channels', channel, id);
    return true;
  }

  /** Moves a client to another user (root id). */
  setUser(id: string, rootId: string): void {
    const record = this.clients.get(id);
    if (!record || record.rootId === rootId) return;
    // Added before removed, so a user moving between two sockets here is never briefly untracked.
    this.addTo(this.users, 'users', rootId, id);
    this.removeFrom(this.users, 'users', record.rootId, id);
    record.rootId = rootId;
  }

  remove(id: string): ClientRecord<C> | undefined {
    const record = this.clients.get(id);
    if (!record) return undefined;
    this.clients.delete(id);
    this.onTarget?.('clients', id, false);
    this.removeFrom(this.users, 'users', record.rootId, id);
    for (const channel of record.channels.keys()) this.removeFrom(this.channels, 'channels', channel, id);
    return record;
  }

  /** A stamp later than every join so far and earlier than every join after it. */
  stamp(): number {
    return ++this.stamps;
  }

  clientsInChannel(channel: string): ReadonlySet<string> | undefined {
    return this.channels.get(channel);
  }

  /** Every channel with a member here, with its members. */
  channelMembers(): IterableIterator<[string, ReadonlySet<string>]> {
    return this.channels.entries();
  }

  clientsOfUser(rootId: string): ReadonlySet<string> | undefined {
    return this.users.get(rootId);
  }

  all(): IterableIterator<ClientRecord<C>> {
    return this.clients.values();
  }

  counts(): RegistryCounts {
    return { clients: this.clients.size, channels: this.channels.size, users: this.users.size };
  }

  private addTo(index: Map<string, Set<string>>, kind: TargetKind, key: string, id: string): void {
    let set = index.get(key);
    if (!set) {
      index.set(key, (set = new Set()));
      this.onTarget?.(kind, key, true);
    }
    set.add(id);
  }

  private removeFrom(index: Map<string, Set<string>>, kind: TargetKind, key: string, id: string): void {
    const set = index.get(key);
    if (!set || !set.delete(id) || set.size > 0) return;
    index.delete(key);
    this.onTarget?.(kind, key, false);
  }
}
