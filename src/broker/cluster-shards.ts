/**
 * Sharded pub/sub subscriptions on connections of our own: one ioredis `Redis` per master of a
 * Redis Cluster, each holding the SSUBSCRIBEs for the topics whose slot that master owns.
 *
 * Why not ioredis's `shardedSubscribers`: its ClusterSubscriberGroup keeps a channel list per slot
 * ever used (emptied, never removed) and sums over all of them on every SSUBSCRIBE and SUNSUBSCRIBE,
 * so the cost of one subscribe grew with every slot a node had touched since it started (3,197 →
 * 15,105 entries, 145 → 370 ms per 3,500 subscribe/unsubscribe pairs). Here every structure is
 * bounded by the topics held now: `held` (topic → shard) and each shard's topic set.
 *
 * Re-subscribing is ours too: after a shard connection reconnects, its held topics are sent again
 * (grouped by slot: a multi-topic SSUBSCRIBE must stay within one slot); after the slot map changes
 * (`reconcile`, on every refresh of the cluster's slot cache: periodic, and on a MOVED reply, an
 * unsolicited SUNSUBSCRIBE from a migrated slot, or a shard connection closing), topics move to
 * their new owner.
 */
import { Redis, type Cluster } from 'ioredis';
import { withDeadline } from './pubsub.js';
import { subscriberOptions } from './redis-clients.js';
import { keySlot, SLOTS } from './slot.js';

export interface ShardEvents {
  message(topic: string, text: string): void;
  /** A shard connection is ready and its held topics were sent again; failed topics may be retried now. */
  shardUp(): void;
  error(err: Error): void;
}

interface Shard {
  readonly key: string;
  readonly redis: Redis;
  /** Topic → slot, for every topic held on this connection. */
  readonly topics: Map<string, number>;
  /** Settles commands still unanswered when the connection closes (ioredis would leave them pending). */
  readonly onClose: Set<() => void>;
  /** Shared by every caller waiting for the connection to become ready (or fail). */
  ready: Promise<void> | null;
}

interface Hold {
  readonly slot: number;
  readonly shard: Shard;
  /** The subscribe call that added it, so a failure forgets only what that call added. */
  readonly op: number;
}


export class ShardSubscribers {
  private readonly shards = new Map<string, Shard>();
  private readonly held = new Map<string, Hold>();
  /** Owner (`host:port` of the master) of each slot, as of the last reconcile. */
  private readonly owners: Array<string | undefined> = new Array<string | undefined>(SLOTS);
  private op = 0;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly events: ShardEvents,
    private readonly connectionName: string,
  ) {}

  /** Topics held (subscribed, or sent and not yet refused). */
  get size(): number {
    return this.held.size;
  }

  /** Topics held per shard connection, for tests and debugging. */
  shardSizes(): Map<string, number> {
    return new Map([...this.shards].map(([key, shard]) => [key, shard.topics.size]));
  }

  /** A PING on the connection holding `topic` (see PubSubClient.barrier). */
  async barrier(topic: string): Promise<void> {
    const shard = this.held.get(topic)?.shard;
    if (shard === undefined || shard.redis.status !== 'ready') throw new Error(`no live shard connection holds ${topic}`);
    await shard.redis.ping();
  }

  /** Opens a connection to every master; resolves when each is ready or has failed once. */
  async open(): Promise<void> {
    this.reconcile();
    await Promise.all([...this.shards.values()].map((shard) => this.whenReady(shard).catch((err: unknown) => err)));
  }

  /** Resolves once Redis has confirmed the SSUBSCRIBE of every topic; rejects if any was not. */
  subscribe(topics: readonly string[]): Promise<unknown> {
    const op = ++this.op;
    const byShard = new Map<Shard, Map<number, string[]>>();
    const unknown: string[] = [];
    for (const topic of topics) {
      const slot = keySlot(topic);
      const key = this.cluster.slots[slot]?.[0];
      if (key === undefined) {
        unknown.push(topic);
        continue;
      }
      const shard = this.shard(key);
      this.hold(topic, { slot, shard, op });
      group(byShard, shard, slot, topic);
    }
    const sends = [...byShard].flatMap(([shard, slots]) => {
      const groups = [...slots.values()];
      const ready = this.whenReady(shard);
      return groups.map((topics) =>
        ready
          .then(() => {
            // Unsubscribed (or moved) while the connection was opening: nothing to send here.
            const still = topics.filter((topic) => this.held.get(topic)?.shard === shard);
            return still.length === 0 ? undefined : this.send(shard, 'ssubscribe', still);
          })
          .catch((err: unknown) => this.refused(shard, topics, op, err)),
      );
    });
    return Promise.all(sends).then(() => {
      if (unknown.length > 0) throw new Error(`no shard owns the slot of ${unknown.length} topic(s), e.g. ${unknown[0]}`);
    });
  }

  /**
   * Resolves once Redis has confirmed the SUNSUBSCRIBE; a topic on a connection that is not ready
   * (or closes meanwhile) is gone from the server already, since Redis drops a closed connection's
   * subscriptions, and is not sent again on reconnect.
   */
  unsubscribe(topics: readonly string[]): Promise<unknown> {
    const byShard = new Map<Shard, Map<number, string[]>>();
    for (const topic of topics) {
      const hold = this.held.get(topic);
      if (hold === undefined) continue;
      this.forget(topic, hold);
      if (hold.shard.redis.status === 'ready') group(byShard, hold.shard, hold.slot, topic);
    }
    return Promise.all([...byShard].flatMap(([shard, slots]) => [...slots.values()].map((group) => this.send(shard, 'sunsubscribe', group))));
  }

  /**
   * Follows the cluster's slot map: topics whose slot has a new owner are moved there, and
   * connections to nodes that own no slot and hold no topic are closed. Cheap when nothing changed
   * (one pass over the 16,384 slots).
   */
  reconcile(): void {
    if (this.closed) return;
    let changed = false;
    for (let slot = 0; slot < SLOTS; slot++) {
      const key = this.cluster.slots[slot]?.[0];
      if (key !== this.owners[slot]) changed = true;
      this.owners[slot] = key;
    }
    if (!changed && this.shards.size > 0) return;
    const owners = new Set<string>();
    for (const key of this.owners) if (key !== undefined) owners.add(key);
    for (const key of owners) this.shard(key);
    const leaving = new Map<Shard, Map<number, string[]>>();
    const arriving = new Map<Shard, Map<number, string[]>>();
    for (const [topic, hold] of this.held) {
      const key = this.owners[hold.slot];
      if (key === undefined || key === hold.shard.key) continue;
      const shard = this.shard(key);
      if (hold.shard.redis.status === 'ready') group(leaving, hold.shard, hold.slot, topic);
      this.hold(topic, { slot: hold.slot, shard, op: hold.op });
      group(arriving, shard, hold.slot, topic);
    }
    // The old owner has usually dropped them already (Redis unsubscribes a migrated slot's channels).
    for (const [shard, slots] of leaving) for (const topics of slots.values()) this.send(shard, 'sunsubscribe', topics).catch(this.failed);
    for (const [shard, slots] of arriving) this.resend(shard, slots);
    for (const [key, shard] of this.shards) {
      if (owners.has(key) || shard.topics.size > 0) continue;
      this.shards.delete(key);
      shard.redis.disconnect();
    }
    this.events.shardUp();
  }

  /** QUIT on every connection (dropping it after `waitMs` without a reply). */
  async close(waitMs: number): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.shards.values()].map(async (shard) => {
        if (shard.redis.status === 'ready') await withDeadline(shard.redis.quit(), waitMs);
        shard.redis.disconnect();
      }),
    );
  }

  private shard(key: string): Shard {
    const existing = this.shards.get(key);
    if (existing !== undefined) return existing;
    const [host, port] = splitKey(key);
    const redis = new Redis({ ...subscriberOptions, host, port, connectionName: `${this.connectionName}-ssub` });
    const shard: Shard = { key, redis, topics: new Map(), onClose: new Set(), ready: null };
    redis.on('smessage', this.events.message);
    redis.on('error', this.failed);
    // A MOVED reply to SSUBSCRIBE, or an unsolicited SUNSUBSCRIBE when a slot migrates away.
    redis.on('moved', () => this.cluster.refreshSlotsCache());
    redis.on('close', () => {
      for (const settle of shard.onClose) settle();
      shard.onClose.clear();
      // The node may have failed over to a replica (a new master key): re-read the slot map, at
      // most once per reconnect attempt of this connection (0.1 s doubling to 2 s).
      if (!this.closed && this.shards.get(shard.key) === shard) this.cluster.refreshSlotsCache();
    });
    redis.on('ready', () => {
      // A new connection holds no subscriptions: send every held topic again, slot by slot.
      const slots = new Map<number, string[]>();
      for (const [topic, slot] of shard.topics) bySlot(slots, slot, topic);
      this.resend(shard, slots);
      this.events.shardUp();
    });
    this.shards.set(key, shard);
    if (!this.closed) redis.connect().catch(this.failed);
    return shard;
  }

  private hold(topic: string, hold: Hold): void {
    const before = this.held.get(topic);
    if (before !== undefined && before.shard !== hold.shard) before.shard.topics.delete(topic);
    this.held.set(topic, hold);
    hold.shard.topics.set(topic, hold.slot);
  }

  private forget(topic: string, hold: Hold): void {
    this.held.delete(topic);
    hold.shard.topics.delete(topic);
  }

  /**
   * An SSUBSCRIBE failed: its topics are forgotten and it rejects. Not those a later call holds, nor
   * those moved to another shard meanwhile (the move sends them there).
   */
  private refused(shard: Shard, topics: readonly string[], op: number, err: unknown): never {
    for (const topic of topics) {
      const hold = this.held.get(topic);
      if (hold?.op === op && hold.shard === shard) this.forget(topic, hold);
    }
    throw err;
  }

  /**
   * Topics this module sends by itself (after a reconnect or a move). They stay held when refused:
   * a MOVED refusal refreshes the slot map and moves them, a closed connection sends them again
   * when it is ready.
   */
  private resend(shard: Shard, slots: Map<number, string[]>): void {
    if (shard.redis.status !== 'ready') return;
    for (const topics of slots.values()) this.send(shard, 'ssubscribe', topics).catch(this.failed);
  }

  /** The command, settled by Redis's reply or by the connection closing first. */
  private send(shard: Shard, command: 'ssubscribe' | 'sunsubscribe', topics: string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const closed = () =>
        command === 'sunsubscribe' ? resolve() : reject(new Error(`the connection to shard ${shard.key} closed before SSUBSCRIBE was confirmed`));
      shard.onClose.add(closed);
      shard.redis[command](...topics).then(
        () => {
          shard.onClose.delete(closed);
          resolve();
        },
        (err: unknown) => {
          shard.onClose.delete(closed);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /** Resolves when the connection is ready; rejects if it closes (a failed attempt) first. */
  private whenReady(shard: Shard): Promise<void> {
    const { redis } = shard;
    if (redis.status === 'ready') return Promise.resolve();
    if (this.closed || redis.status === 'end') return Promise.reject(new Error(`the connection to shard ${shard.key} is closed`));
    shard.ready ??= new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        redis.off('ready', ready);
        redis.off('close', closed);
        shard.ready = null;
        if (err === undefined) resolve();
        else reject(err);
      };
      const ready = () => done();
      const closed = () => done(new Error(`the connection to shard ${shard.key} is not up`));
      redis.on('ready', ready);
      redis.on('close', closed);
    });
    return shard.ready;
  }

  private readonly failed = (err: unknown): void => {
    this.events.error(err instanceof Error ? err : new Error(String(err)));
  };
}

/** Groups topics by shard, then by slot: one SSUBSCRIBE / SUNSUBSCRIBE per group. */
function group(into: Map<Shard, Map<number, string[]>>, shard: Shard, slot: number, topic: string): void {
  let slots = into.get(shard);
  if (slots === undefined) into.set(shard, (slots = new Map()));
  bySlot(slots, slot, topic);
}

function bySlot(into: Map<number, string[]>, slot: number, topic: string): void {
  const topics = into.get(slot);
  if (topics === undefined) into.set(slot, [topic]);
  else topics.push(topic);
}

/** `host:port` as ioredis keys cluster nodes (an IPv6 host is not bracketed there). */
function splitKey(key: string): [string, number] {
  const colon = key.lastIndexOf(':');
  return [key.slice(0, colon), Number(key.slice(colon + 1))];
}
