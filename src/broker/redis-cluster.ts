/**
 * Redis Cluster sharded pub/sub (`REDIS_CLUSTER_NODES`, Redis 7+): SPUBLISH goes to the shard that
 * owns the topic's slot over ioredis's cluster connections, and SSUBSCRIBEs are held on one
 * connection per shard of our own (`ShardSubscribers`, cluster-shards.ts), so each shard carries
 * only its own topics and a node's traffic is spread over every shard. Those connections
 * re-subscribe their topics after a reconnect or a slot move, so `Subscriptions` is not asked to
 * re-send them.
 */
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { PubSubBroker, withDeadline, type PubSubClient, type PubSubEvents } from './pubsub.js';
import { ShardSubscribers } from './cluster-shards.js';
import { reconnectDelayMs } from './reconnect.js';
import { runScript, type LuaScript, type ScriptArg } from './scripts.js';
import { keySlot } from './slot.js';
import type { ClusterNode } from './redis-target.js';

export { parseClusterNodes, type ClusterNode } from './redis-target.js';

const SLOTS_REFRESH_MS = 5000;

export class ClusterPubSub implements PubSubClient {
  readonly type = 'redis-cluster';
  readonly publishCommand = 'SPUBLISH';
  private readonly cluster: Cluster;
  private readonly shards: ShardSubscribers;
  private events: PubSubEvents | null = null;
  private warmed = false;
  /** Node connections by `host:port`, the keys of `cluster.slots`. */
  private byKey = new Map<string, Redis>();

  constructor(nodes: readonly ClusterNode[], connectionName = 'walker-hub') {
    this.cluster = new Cluster([...nodes], {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelayMs,
      clusterNodeRetryStrategy: reconnectDelayMs,
      // No delayed retries of a command whose shard dropped or is down: a retry could land after a
      // newer notification to the same topic (breaking order) or long after the fact. Dropped.
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      // A command in flight when a shard's connection drops is not re-sent after the reconnect: at most once.
      redisOptions: { connectTimeout: 2000, autoResendUnfulfilledCommands: false },
      // Re-read the slot map this often (ms) even when no reply says it changed, so a move the
      // shard subscriber connections were not told of still reaches them (ShardSubscribers.reconcile).
      slotsRefreshInterval: SLOTS_REFRESH_MS,
    });
    this.shards = new ShardSubscribers(
      this.cluster,
      {
        message: (topic, text) => this.events?.message(topic, text),
        // Topics refused while a shard was down or moving are asked for again (if the cluster is up).
        shardUp: () => {
          if (this.cluster.status === 'ready') this.events?.subscriberUp(false);
        },
        error: (err) => this.events?.changed(err),
      },
      connectionName,
    );
  }

  /** Topics held on the shard subscriber connections (bounded by what `Subscriptions` has asked for). */
  get heldTopics(): number {
    return this.shards.size;
  }

  /** Topics held per shard connection (`host:port`). */
  shardSizes(): Map<string, number> {
    return this.shards.shardSizes();
  }

  async connect(events: PubSubEvents): Promise<void> {
    this.events = events;
    let warming: Promise<void> = Promise.resolve();
    this.cluster.on('ready', () => {
      // Never fresh: the shard connections keep (and re-send) what they hold across cluster outages.
      // The shard subscriber connections are opened alongside, so the first subscriptions need not wait.
      warming = Promise.all([this.warm(), this.shards.open()]).then(() => {
        events.subscriberUp(false);
        events.changed();
      });
    });
    for (const event of ['close', 'end', 'reconnecting']) {
      this.cluster.on(event, () => {
        events.subscriberDown();
        events.changed();
      });
    }
    for (const event of ['+node', '-node', 'refresh', 'ready']) this.cluster.on(event, () => this.indexNodes());
    // Every slot-cache refresh (startup, MOVED, a failed node, a shard connection told of a move).
    this.cluster.on('refresh', () => this.shards.reconcile());
    this.cluster.on('error', (err: Error) => events.changed(err));
    this.cluster.on('node error', (err: Error) => events.changed(err));
    // Cluster#connect() resolves before its 'ready' listeners ran; wait for them (or a failure).
    const settled = new Promise<void>((resolve) => {
      this.cluster.once('ready', resolve);
      this.cluster.once('error', () => resolve());
    });
    this.cluster.connect().catch((err: unknown) => events.changed(err instanceof Error ? err : new Error(String(err))));
    await settled;
    await warming;
  }

  isReady(): boolean {
    return this.warmed && this.cluster.status === 'ready';
  }

  /**
   * Opens the connection to every master before publishing. ioredis opens them lazily, and
   * commands written while one is still opening can reach the server out of order (seen with
   * 200 SPUBLISHes to one topic on 6.0.0), which would break order per publisher and target.
   */
  private async warm(): Promise<void> {
    this.warmed = false;
    // A master that does not answer is not waited for: its topics are dropped until it reconnects.
    await Promise.all(this.cluster.nodes('master').map((node) => node.ping().catch((err: unknown) => err)));
    this.warmed = true;
  }

  /**
   * Sent only when the connection to the shard owning the topic is up and writable. ioredis would
   * otherwise hold the command in that connection's own queue (always on for cluster nodes), without
   * bound, and deliver it late after a reconnect; at most once means it is dropped instead.
   */
  publish(topic: string, text: string): Promise<unknown> {
    const down = this.shardDown(topic);
    return down ?? this.cluster.spublish(topic, text);
  }

  /** Every key in one slot (history keys carry their topic's hash tag); sent as `publish` is. */
  runScript(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    const down = this.shardDown(keys[0] as string);
    return down ?? runScript(this.cluster, script, keys, args);
  }

  barrier(topic: string): Promise<void> {
    return this.shards.barrier(topic);
  }

  /** A rejection when the connection to the shard owning `key`'s slot is not up and writable; null when it is. */
  private shardDown(key: string): Promise<never> | null {
    const owner = this.cluster.slots[keySlot(key)]?.[0];
    const node = owner === undefined ? undefined : this.byKey.get(owner);
    if (node?.status === 'ready' && node.stream.writable) return null;
    // A connection ioredis recreated waits for a first command to open; open it for the next one.
    if (node?.status === 'wait') node.connect().catch((err: unknown) => err);
    return Promise.reject(new Error(`the shard of ${key} (${owner ?? 'unknown'}) is not connected`));
  }

  private indexNodes(): void {
    this.byKey = new Map(this.cluster.nodes('all').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  }

  // One command per slot and shard: a multi-topic SSUBSCRIBE must stay within one slot.
  subscribe(topics: string[]): Promise<unknown> {
    return this.shards.subscribe(topics);
  }

  unsubscribe(topics: string[]): Promise<unknown> {
    return this.shards.unsubscribe(topics);
  }

  async close(waitMs: number): Promise<void> {
    await Promise.all([
      this.shards.close(waitMs),
      (async () => {
        if (this.cluster.status === 'ready') await withDeadline(this.cluster.quit(), waitMs);
        this.cluster.disconnect();
      })(),
    ]);
  }
}

export function createClusterBroker(nodes: readonly ClusterNode[], prefix: string, log: Logger): PubSubBroker {
  return new PubSubBroker(new ClusterPubSub(nodes), { prefix, log });
}
