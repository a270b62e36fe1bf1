/**
 * Presence shared by every node through Redis (or Redis Cluster). Per channel, two keys in one hash
 * slot (`<prefix>p{<channel>}`: client id -> root id; `<prefix>q{<channel>}`:
 * client id -> the time, ms, until which the entry holds). Each node re-stamps its own members every
 * `ttlMs / 3`, so an entry of a node that died is ignored (and removed) once `ttlMs` has passed
 * since its last stamp: a dead node's members vanish from answers within `ttlMs` (default 60 s).
 * A clean shutdown removes its entries at once. Keys expire whole `ttlMs` after their last write,
 * so channels nobody is in leave nothing behind.
 *
 * Redis unreachable: writes are dropped (the next refresh after it is back writes every local
 * member again) and `list` rejects, which the hub answers as `presence_unavailable`.
 */
import { Cluster, type Redis } from 'ioredis';
import { createCommandClient, type RedisTarget } from '../broker/redis-clients.js';
import { withDeadline } from '../broker/pubsub.js';
import type { Logger } from '../log.js';
import type { Presence, PresenceClient } from './presence.js';

/** How long a presence command may wait for Redis, ms. */
export const PRESENCE_COMMAND_TIMEOUT_MS = 1000;
/** How long start-up waits for the first connection, ms, before going on without it. */
const START_WAIT_MS = 2500;
/** How long shutdown waits for the entries' removal, ms. */
const CLOSE_WAIT_MS = 1000;

/** Drops expired entries, then returns every entry as client id, root id, ... (one round trip, atomic per channel). */
const LIST_SCRIPT = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for i = 1, #expired do redis.call('HDEL', KEYS[1], expired[i]) end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1]) end
return redis.call('HGETALL', KEYS[1])
`;

export interface RedisPresenceOptions {
  readonly prefix: string;
  /** How long an entry holds without a refresh, ms. */
  readonly ttlMs: number;
  /** This node's members of every presence channel, for the refresh. */
  readonly localMembers: () => Iterable<[string, PresenceClient[]]>;
  readonly log: Logger;
}

export class RedisPresence implements Presence {
  private readonly client: Redis | Cluster;
  private readonly timer: NodeJS.Timeout;
  private failing = false;
  /**
   * Settles once the first connection is ready (every shard's, on a cluster), has failed, or took
   * longer than START_WAIT_MS: the hub waits for it before listening, so the first joins are written.
   */
  readonly started: Promise<void>;

  constructor(
    target: RedisTarget,
    private readonly options: RedisPresenceOptions,
  ) {
    this.client = createCommandClient(target, 'walker-hub-presence', PRESENCE_COMMAND_TIMEOUT_MS);
    this.client.on('error', (err: Error) => this.failed(err));
    this.client.on('ready', () => {
      // A cluster's node connections open lazily, and commands are not queued while one opens: open
      // every master's before writing, so the first writes after (re)connecting are not dropped.
      void this.warm().then(() => {
        if (this.failing) options.log.info('presence store reachable again');
        this.failing = false;
        this.refresh();
      });
    });
    const connected = new Promise<void>((resolve) => {
      this.client.once('ready', () => void this.warm().then(resolve));
      this.client.connect().catch((err: unknown) => {
        this.failed(err);
        resolve();
      });
    });
    this.started = Promise.race([connected, new Promise<void>((resolve) => setTimeout(resolve, START_WAIT_MS).unref())]);
    this.timer = setInterval(() => this.refresh(), Math.max(Math.floor(options.ttlMs / 3), 100));
    this.timer.unref();
  }

  joined(channel: string, client: PresenceClient): Promise<void> | void {
    return this.write(channel, [client]);
  }

  left(channel: string, clientId: string): Promise<void> | void {
    if (this.client.status !== 'ready') return;
    const [entries, stamps] = this.keys(channel);
    return this.client
      .multi()
      .hdel(entries, clientId)
      .zrem(stamps, clientId)
      .exec()
      .then(
        () => undefined,
        (err: unknown) => this.failed(err),
      );
  }

  async list(channel: string): Promise<PresenceClient[]> {
    const [entries, stamps] = this.keys(channel);
    const flat = (await this.client.eval(LIST_SCRIPT, 2, entries, stamps, String(Date.now()))) as string[];
    const clients: PresenceClient[] = new Array<PresenceClient>(flat.length >> 1);
    for (let i = 0; i < clients.length; i++) clients[i] = { client_id: flat[2 * i] as string, root_id: flat[2 * i + 1] as string };
    return clients;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.client.status === 'ready') {
      const removals: Array<Promise<unknown>> = [];
      for (const [channel, clients] of this.options.localMembers()) {
        if (clients.length === 0) continue;
        const [entries, stamps] = this.keys(channel);
        const ids = clients.map((c) => c.client_id);
        removals.push(this.client.multi().hdel(entries, ...ids).zrem(stamps, ...ids).exec());
      }
      await withDeadline(Promise.all(removals), CLOSE_WAIT_MS);
      await withDeadline(this.client.quit(), CLOSE_WAIT_MS);
    }
    this.client.disconnect();
  }

  private async warm(): Promise<void> {
    if (!(this.client instanceof Cluster)) return;
    await Promise.all(this.client.nodes('master').map((node) => node.ping().catch((err: unknown) => err)));
  }

  /** Both keys share the `{channel}` hash tag, so a transaction over them stays on one shard. */
  private keys(channel: string): [string, string] {
    return [`${this.options.prefix}p{${channel}}`, `${this.options.prefix}q{${channel}}`];
  }

  private write(channel: string, clients: readonly PresenceClient[]): Promise<void> | void {
    if (this.client.status !== 'ready' || clients.length === 0) return;
    const [entries, stamps] = this.keys(channel);
    const until = Date.now() + this.options.ttlMs;
    const fields: string[] = [];
    const scores: Array<string | number> = [];
    for (const c of clients) {
      fields.push(c.client_id, c.root_id);
      scores.push(until, c.client_id);
    }
    return this.client
      .multi()
      .hset(entries, ...fields)
      .zadd(stamps, ...scores)
      .pexpire(entries, this.options.ttlMs)
      .pexpire(stamps, this.options.ttlMs)
      .exec()
      .then(
        () => undefined,
        (err: unknown) => this.failed(err),
      );
  }

  /** Stamps (and writes again) every local member: keeps them alive, and restores them after Redis lost its data. */
  private refresh(): void {
    for (const [channel, clients] of this.options.localMembers()) void this.write(channel, clients);
  }

  private failed(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.options.log.warn('presence store unavailable; presence answers fail until it is back', { error: err instanceof Error ? err.message : String(err) });
  }
}
