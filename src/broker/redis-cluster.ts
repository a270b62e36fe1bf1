/**
 * Redis Cluster sharded pub/sub (`REDIS_CLUSTER_NODES`, Redis 7+): SPUBLISH goes to the shard that
 * owns the topic's slot, and ioredis keeps one SSUBSCRIBE connection per shard
 * (`shardedSubscribers`), so each shard carries only its own topics and a node's traffic is
 * spread over every shard. ioredis re-subscribes its sharded channels itself after a reconnect or
 * a slot move, so `Subscriptions` is not asked to re-send them.
 */
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { PubSubBroker, withDeadline, type PubSubClient, type PubSubEvents } from './pubsub.js';
import { reconnectDelayMs } from './reconnect.js';
import { keySlot } from './slot.js';

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

/** `host:port,host:port` (IPv6 hosts in brackets: `[::1]:7000`). Throws on a malformed entry. */
export function parseClusterNodes(list: string): ClusterNode[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((entry) => {
      const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[2]) : NaN;
      if (!m || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
      return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
    });
}

export class ClusterPubSub implements PubSubClient {
  readonly type = 'redis-cluster';
  private readonly cluster: Cluster;
  private warmed = false;
  /** Node connections by `host:port`, the keys of `cluster.slots`. */
  private byKey = new Map<string, Redis>();

  constructor(nodes: readonly ClusterNode[]) {
    this.cluster = new Cluster([...nodes], {
      lazyConnect: true,
      shardedSubscribers: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelayMs,
      clusterNodeRetryStrategy: reconnectDelayMs,
      // No delayed retries of a command whose shard dropped or is down: a retry could land after a
      // newer notification to the same topic (breaking order) or long after the fact. Dropped.
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      // A command in flight when a shard's connection drops is not re-sent after the reconnect: at most once.
      redisOptions: { connectTimeout: 2000, autoResendUnfulfilledCommands: false },
    });
  }

  async connect(events: PubSubEvents): Promise<void> {
    this.cluster.on('smessage', events.message);
    let warming: Promise<void> = Promise.resolve();
    this.cluster.on('ready', () => {
      // Fresh only the first time: afterwards ioredis re-subscribes on its own.
      events.subscriberUp(false);
      warming = this.warm().then(() => events.changed());
    });
    for (const event of ['close', 'end', 'reconnecting']) {
      this.cluster.on(event, () => {
        events.subscriberDown();
        events.changed();
      });
    }
    for (const event of ['+node', '-node', 'refresh', 'ready']) this.cluster.on(event, () => this.indexNodes());
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
    const key = this.cluster.slots[keySlot(topic)]?.[0];
    const node = key === undefined ? undefined : this.byKey.get(key);
    if (node?.status !== 'ready' || !node.stream.writable) {
      // A connection ioredis recreated waits for a first command to open; open it for the next one.
      if (node?.status === 'wait') node.connect().catch((err: unknown) => err);
      return Promise.reject(new Error(`the shard of ${topic} (${key ?? 'unknown'}) is not connected`));
    }
    return this.cluster.spublish(topic, text);
  }

  private indexNodes(): void {
    this.byKey = new Map(this.cluster.nodes('all').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  }

  // One command per topic: a multi-topic SSUBSCRIBE must stay within one slot, and distinct topics
  // rarely share one. ioredis writes a burst of them to each shard's connection together.
  subscribe(topics: string[]): Promise<unknown> {
    return Promise.all(topics.map((topic) => this.cluster.ssubscribe(topic)));
  }

  unsubscribe(topics: string[]): Promise<unknown> {
    return Promise.all(topics.map((topic) => this.cluster.sunsubscribe(topic)));
  }

  async close(waitMs: number): Promise<void> {
    if (this.cluster.status === 'ready') await withDeadline(this.cluster.quit(), waitMs);
    this.cluster.disconnect();
  }
}

export function createClusterBroker(nodes: readonly ClusterNode[], prefix: string, log: Logger): PubSubBroker {
  return new PubSubBroker(new ClusterPubSub(nodes), { prefix, log });
}
