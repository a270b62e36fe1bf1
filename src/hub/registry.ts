/**
 * The local registries: clients by id, channel <-> clients and user (root id) -> clients.
 * Socket-free: a client record carries an opaque `handle` the caller gives it. Empty sets are
 * deleted, so after every client leaves all three maps are empty.
 */

export interface ClientRecord<C> {
  readonly id: string;
  rootId: string;
  /** The channel from the connect URL (or a random one); reported in `connection` frames. */
  readonly primaryChannel: string;
  readonly channels: Set<string>;
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

  add(id: string, rootId: string, primaryChannel: string, handle: C): ClientRecord<C> {
    if (this.clients.has(id)) throw new Error(`client ${id} is already registered`);
    const record: ClientRecord<C> = { id, rootId, primaryChannel, channels: new Set(), handle };
    this.clients.set(id, record);
    addTo(this.users, rootId, id);
    this.join(id, primaryChannel);
    return record;
  }

  get(id: string): ClientRecord<C> | undefined {
    return this.clients.get(id);
  }

  /** Returns true if the client was not already in the channel. */
  join(id: string, channel: string): boolean {
    const record = this.clients.get(id);
    if (!record || record.channels.has(channel)) return false;
    record.channels.add(channel);
    addTo(this.channels, channel, id);
    return true;
  }

  /** Returns true if the client was in the channel. */
  leave(id: string, channel: string): boolean {
    const record = this.clients.get(id);
    if (!record || !record.channels.delete(channel)) return false;
    removeFrom(this.channels, channel, id);
    return true;
  }

  /** Moves a client to another user (root id). */
  setUser(id: string, rootId: string): void {
    const record = this.clients.get(id);
    if (!record || record.rootId === rootId) return;
    removeFrom(this.users, record.rootId, id);
    record.rootId = rootId;
    addTo(this.users, rootId, id);
  }

  remove(id: string): ClientRecord<C> | undefined {
    const record = this.clients.get(id);
    if (!record) return undefined;
    this.clients.delete(id);
    removeFrom(this.users, record.rootId, id);
    for (const channel of record.channels) removeFrom(this.channels, channel, id);
    return record;
  }

  clientsInChannel(channel: string): ReadonlySet<string> | undefined {
    return this.channels.get(channel);
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
}

function addTo(index: Map<string, Set<string>>, key: string, id: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(id);
}

function removeFrom(index: Map<string, Set<string>>, key: string, id: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(id);
  if (set.size === 0) index.delete(key);
}
