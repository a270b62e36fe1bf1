/**
 * Broker test helpers: a delivery recorder with awaitable deliveries, Redis connections for
 * inspecting what the server holds, and the skip-loudly / fail-under-REQUIRE_SERVICES rule.
 */
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { describe, it, type TestContext } from 'vitest';
import type { Broker, BrokerState, DeliverLocally, Delivery } from '../src/broker/broker.js';
import type { PubSubBroker } from '../src/broker/pubsub.js';
import type { RunningHub } from '../src/node.js';
import { parseClusterNodes } from '../src/broker/redis-cluster.js';

export const REDIS_URL = process.env['REDIS_URL'];
export const REDIS_CLUSTER_NODES = process.env['REDIS_CLUSTER_NODES'];
const REQUIRE_SERVICES = process.env['REQUIRE_SERVICES'] === '1';

/** A topic prefix no other test (or test file running in parallel) uses. */
export function testPrefix(): string {
  return `t${randomBytes(5).toString('hex')}:`;
}

/** Records every delivery a broker hands its node, in order; tests await them. */
export class Recorder {
  readonly got: Delivery[] = [];
  private waiters: Array<{ match: (d: Delivery) => boolean; count: number; resolve: () => void }> = [];
  readonly deliver: DeliverLocally = (d) => {
    this.got.push(d);
    this.waiters = this.waiters.filter((w) => {
      if (this.got.filter(w.match).length < w.count) return true;
      w.resolve();
      return false;
    });
    // A recorder stands for a node without sockets: nothing is reached.
    return 0;
  };

  /** Resolves once `count` deliveries match (already recorded ones count). */
  wait(match: (d: Delivery) => boolean, count = 1): Promise<void> {
    if (this.got.filter(match).length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, count, resolve }));
  }

  frames(match: (d: Delivery) => boolean = () => true): string[] {
    return this.got.filter(match).map((d) => d.frame);
  }
}

/** Control texts a broker hears, awaitable by count. */
export class ControlLog {
  readonly texts: string[] = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(broker: Broker) {
    broker.onControl((text) => {
      this.texts.push(text);
      this.waiters = this.waiters.filter((w) => (this.texts.length >= w.count ? (w.resolve(), false) : true));
    });
  }

  wait(count: number): Promise<void> {
    if (this.texts.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
}

/** Deliveries to one target id. */
export const to = (id: string) => (d: Delivery) => d.ids.includes(id);

/** Channels with subscribers on the server whose names start with `prefix` (all shards for a cluster). */
export async function serverTopics(admin: Redis | Cluster, prefix: string): Promise<string[]> {
  if (admin instanceof Cluster) {
    const perShard = await Promise.all(admin.nodes('master').map((n) => n.call('PUBSUB', 'SHARDCHANNELS', `${prefix}*`) as Promise<string[]>));
    return perShard.flat().sort();
  }
  return ((await admin.call('PUBSUB', 'CHANNELS', `${prefix}*`)) as string[]).sort();
}

export function redisAdmin(url: string): Redis {
  return new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
}

export function clusterAdmin(list: string): Cluster {
  return new Cluster(parseClusterNodes(list));
}

/** Runs `body` when `value` is set; otherwise skips loudly, or fails under REQUIRE_SERVICES=1. */
export function withService(name: string, variable: string, value: string | undefined, body: (value: string) => void): void {
  if (value) return body(value);
  if (REQUIRE_SERVICES) {
    describe(name, () => {
      it(`needs ${variable}`, () => {
        throw new Error(`${variable} is required when REQUIRE_SERVICES=1`);
      });
    });
    return;
  }
  console.warn(`SKIPPED: ${name} — ${variable} is not set`);
  describe.skip(`${name} (${variable} is not set)`, () => {
    it('runs against a real server', () => {});
  });
}

/** `withService` for one test: `value` when set; otherwise this test fails under REQUIRE_SERVICES=1, or skips loudly. */
export function serviceFor(ctx: TestContext, name: string, variable: string, value: string | undefined): string {
  if (value) return value;
  if (REQUIRE_SERVICES) throw new Error(`${variable} is required when REQUIRE_SERVICES=1`);
  console.warn(`SKIPPED: ${name} — ${variable} is not set`);
  return ctx.skip();
}

/** Resolves once the hub's Redis broker reports `state` (at once when it does already). */
export function untilState(hub: RunningHub, state: BrokerState): Promise<void> {
  const broker = hub.broker as PubSubBroker;
  if (broker.health().state === state) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = broker.onStateChange((now) => {
      if (now !== state) return;
      stop();
      resolve();
    });
  });
}
