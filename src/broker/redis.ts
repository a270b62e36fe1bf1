/**
 * Plain Redis pub/sub (`REDIS_URL`): one connection publishes, one subscribes (a subscribed
 * connection cannot publish). Neither queues commands while disconnected (`enableOfflineQueue:
 * false`), so an outage drops publishes instead of growing memory; subscriptions are not
 * replayed by ioredis but re-sent by `Subscriptions` from the topics this node wants now.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { PubSubBroker, withDeadline, type PubSubClient, type PubSubEvents } from './pubsub.js';
import { subscriberOptions } from './redis-clients.js';
import { runScript, type LuaScript, type ScriptArg } from './scripts.js';


export class RedisPubSub implements PubSubClient {
  readonly type = 'redis';
  readonly publishCommand = 'PUBLISH';
  private readonly pub: Redis;
  private readonly sub: Redis;

  constructor(url: string, connectionName = 'walker-hub') {
    this.pub = new Redis(url, { ...subscriberOptions, connectionName: `${connectionName}-pub` });
    this.sub = new Redis(url, { ...subscriberOptions, connectionName: `${connectionName}-sub` });
  }

  async connect(events: PubSubEvents): Promise<void> {
    this.sub.on('message', events.message);
    this.sub.on('ready', () => {
      events.subscriberUp(true);
      events.changed();
    });
    this.sub.on('close', () => {
      events.subscriberDown();
      events.changed();
    });
    this.pub.on('ready', () => events.changed());
    this.pub.on('close', () => events.changed());
    for (const client of [this.pub, this.sub]) client.on('error', (err: Error) => events.changed(err));
    // A failed first attempt is not fatal: the node runs degraded and the clients keep retrying.
    await Promise.all([this.pub, this.sub].map((client) => client.connect().catch((err: unknown) => events.changed(err instanceof Error ? err : new Error(String(err))))));
  }

  isReady(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready';
  }

  publish(topic: string, text: string): Promise<unknown> {
    return this.pub.publish(topic, text);
  }

  subscribe(topics: string[]): Promise<unknown> {
    return this.sub.subscribe(...topics);
  }

  unsubscribe(topics: string[]): Promise<unknown> {
    return this.sub.unsubscribe(...topics);
  }

  runScript(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    if (this.pub.status !== 'ready') return Promise.reject(new Error('Redis is not connected'));
    return runScript(this.pub, script, keys, args);
  }

  async barrier(_topic: string): Promise<void> {
    if (this.sub.status !== 'ready') throw new Error('the Redis subscriber connection is not connected');
    await this.sub.ping();
  }

  async close(waitMs: number): Promise<void> {
    await Promise.all([this.pub, this.sub].map((client) => quit(client, waitMs)));
  }
}

/** QUIT when connected (dropping the connection if no reply comes in time); otherwise just stop reconnecting. */
async function quit(client: Redis, waitMs: number): Promise<void> {
  if (client.status === 'ready') await withDeadline(client.quit(), waitMs);
  client.disconnect();
}

export function createRedisBroker(url: string, prefix: string, log: Logger): PubSubBroker {
  return new PubSubBroker(new RedisPubSub(url), { prefix, log });
}
