/**
 * The Redis-backed broker, over a small pub/sub client (plain Redis or Redis Cluster's sharded
 * pub/sub, see redis.ts / redis-cluster.ts). Local targets are delivered at once, never through
 * Redis; each published message carries this node's id, so the copy Redis hands back (if this node
 * also subscribes to the topic) is skipped.
 *
 * While Redis is unreachable: local delivery goes on, publishes are dropped (not queued), the
 * outage is logged once, the client reconnects with backoff, and every wanted topic is
 * subscribed again on the new connection.
 */
import { nanoid } from 'nanoid';
import type { Logger } from '../log.js';
import type { Broker, BrokerHealth, BrokerState, ControlListener, DeliverLocally, Delivery, TargetKind } from './broker.js';
import type { LuaScript, ScriptArg } from './scripts.js';
import { Subscriptions } from './subscriptions.js';
import { BROADCAST_ID, controlTopic, historyEpochOf, messageHead, parseMessage, parseTopic, targetTopic } from './wire.js';

const BROADCAST_IDS: readonly string[] = [BROADCAST_ID];

export interface PubSubEvents {
  message(topic: string, text: string): void;
  /** The subscriber connection is ready; `fresh` if it holds none of the earlier subscriptions. */
  subscriberUp(fresh: boolean): void;
  subscriberDown(): void;
  /** Any connection changed state; `error` is the cause of a failure. */
  changed(error?: Error): void;
}

export interface PubSubClient {
  readonly type: 'redis' | 'redis-cluster';
  /** Attaches `events`, then starts connecting; resolves on the first success or failure (it keeps retrying). */
  connect(events: PubSubEvents): Promise<void>;
  /** Whether publishes can be sent now. */
  isReady(): boolean;
  publish(topic: string, text: string): Promise<unknown>;
  subscribe(topics: string[]): Promise<unknown>;
  unsubscribe(topics: string[]): Promise<unknown>;
  /** Runs a Lua script on the connection that publishes (rejects at once when it is not connected). */
  runScript(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown>;
  /** The command that publishes to a topic from inside a script: PUBLISH, or SPUBLISH on a cluster. */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  /**
   * Resolves once every message Redis had sent on the connection subscribed to `topic` when this
   * was called has been received (a PING on that connection); rejects when it is not connected.
   */
  barrier(topic: string): Promise<void>;
  /** Quits every connection: QUIT, and after `waitMs` without a reply, drops it. */
  close(waitMs: number): Promise<void>;
}

/** At most one 'commands failing' line per this many ms. */
export const FAILURE_LOG_INTERVAL_MS = 30_000;

/** How long shutdown waits for Redis to confirm UNSUBSCRIBE and QUIT, ms. */
export const CLOSE_WAIT_MS = 1000;

/** Resolves when `promise` settles or after `ms`, whichever is first. */
export function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}

export interface PubSubBrokerOptions {
  /** Prefix of every topic, so deployments (or test runs) can share one Redis. */
  readonly prefix: string;
  /** Longest wait of `whenLive` for the server to confirm a subscription, ms. */
  readonly confirmTimeoutMs?: number;
  readonly log: Logger;
}

/** The broker's Redis, as channel history uses it. */
export interface HistoryLink {
  /** The topic a channel's publications travel on (history keys share its hash slot). */
  topic(channel: string): string;
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  runScript(script: LuaScript, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown>;
  barrier(topic: string): Promise<void>;
  ready(): boolean;
}

export class PubSubBroker implements Broker {
  /** This node's id on the wire; random per start. */
  readonly nodeId = nanoid(10);
  private deliver: DeliverLocally | null = null;
  private readonly controlListeners = new Set<ControlListener>();
  private readonly stateListeners = new Set<(state: BrokerState) => void>();
  private readonly subscriptions: Subscriptions;
  private readonly prefix: string;
  private readonly control: string;
  private readonly log: Logger;
  private state: BrokerState = 'connecting';
  private seq = 0;
  private dropped = 0;
  private lastFailureLog = -Infinity;
  private failuresSinceLog = 0;
  private unreadableLogged = false;
  private closing = false;

  constructor(
    private readonly client: PubSubClient,
    options: PubSubBrokerOptions,
  ) {
    this.prefix = options.prefix;
    this.control = controlTopic(options.prefix);
    this.log = options.log.child({ broker: client.type });
    this.subscriptions = new Subscriptions(client, (err) => this.failed(err), options.confirmTimeoutMs);
  }

  async start(deliver: DeliverLocally): Promise<void> {
    this.deliver = deliver;
    this.subscriptions.add(this.control);
    await this.client.connect({
      message: (topic, text) => this.receive(topic, text),
      subscriberUp: (fresh) => this.subscriptions.up(fresh),
      subscriberDown: () => this.subscriptions.down(),
      changed: (error) => this.changed(error),
    });
  }

  publish(delivery: Delivery): void {
    this.deliver?.(delivery);
    if (!this.client.isReady()) {
      // At most once: nothing is queued for later; the outage itself was logged once.
      this.dropped++;
      return;
    }
    const ids = delivery.kind === 'broadcast' ? BROADCAST_IDS : delivery.ids.length === 1 ? delivery.ids : [...new Set(delivery.ids)];
    const seq = delivery.kind === 'channels' && ids.length > 1 ? ++this.seq : 0;
    const text = messageHead(this.nodeId, seq) + delivery.frame;
    for (const id of ids) this.client.publish(targetTopic(this.prefix, delivery.kind, id), text).catch(this.publishFailed);
  }

  track(kind: TargetKind, id: string): void {
    this.subscriptions.add(targetTopic(this.prefix, kind, id));
  }

  untrack(kind: TargetKind, id: string): void {
    this.subscriptions.delete(targetTopic(this.prefix, kind, id));
  }

  whenLive(kind: TargetKind, ids: readonly string[]): Promise<boolean> | null {
    const topics = kind === 'broadcast' ? [targetTopic(this.prefix, kind, BROADCAST_ID)] : ids.map((id) => targetTopic(this.prefix, kind, id));
    return this.subscriptions.whenLive(topics);
  }

  sendControl(text: string): void {
    if (!this.client.isReady()) {
      this.dropped++;
      return;
    }
    this.client.publish(this.control, messageHead(this.nodeId, 0) + text).catch(this.publishFailed);
  }

  onControl(listener: ControlListener): void {
    this.controlListeners.add(listener);
  }

  health(): BrokerHealth {
    return { type: this.client.type, state: this.state, topics: this.subscriptions.size, dropped: this.dropped };
  }

  /** Hears every change of `health().state` (for operators' hooks and tests). */
  onStateChange(listener: (state: BrokerState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** What channel history kept in this Redis needs of the broker (history/redis.ts). */
  historyLink(): HistoryLink {
    return {
      topic: (channel) => targetTopic(this.prefix, 'channels', channel),
      publishCommand: this.client.publishCommand,
      runScript: (script, keys, args) => this.client.runScript(script, keys, args),
      barrier: (topic) => this.client.barrier(topic),
      ready: () => this.client.isReady(),
    };
  }

  /** Topics this node wants (what it holds local members for, plus control); for tests and debugging. */
  wantedTopics(): string[] {
    return [...this.subscriptions.wants()];
  }

  settled(): Promise<void> {
    return this.subscriptions.settled();
  }

  /** Unsubscribes and quits; a Redis that stops answering holds shutdown for at most CLOSE_WAIT_MS per step. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.client.isReady()) await withDeadline(this.subscriptions.close(), CLOSE_WAIT_MS);
    this.deliver = null;
    await this.client.close(CLOSE_WAIT_MS);
  }

  private receive(topic: string, text: string): void {
    const message = parseMessage(text);
    if (message === null) {
      if (!this.unreadableLogged) this.log.warn('ignoring broker messages this version cannot read', { topic });
      this.unreadableLogged = true;
      return;
    }
    if (message.origin === this.nodeId) return;
    if (topic === this.control) {
      for (const listener of this.controlListeners) listener(message.body);
      return;
    }
    const target = parseTopic(this.prefix, topic);
    if (target === null || this.deliver === null) return;
    let epoch: string | null;
    if (target.kind === 'broadcast') this.deliver({ kind: 'broadcast', ids: [], frame: message.body });
    else if (target.kind === 'channels' && (epoch = historyEpochOf(message.origin)) !== null) {
      this.deliver({ kind: 'channels', ids: [target.id], frame: message.body, position: { offset: message.seq, epoch } });
    }
    else if (message.seq === 0) this.deliver({ kind: target.kind, ids: [target.id], frame: message.body });
    else this.deliver({ kind: target.kind, ids: [target.id], frame: message.body, key: `${message.origin}:${message.seq}` });
  }

  /** Logs transitions only, so an outage writes one line when it starts and one when it ends. */
  private changed(error?: Error): void {
    if (this.closing) return;
    // While the first connections open one by one, the node is still connecting, not down.
    const next: BrokerState = this.client.isReady() ? 'up' : this.state === 'connecting' && error === undefined ? 'connecting' : 'down';
    if (next === this.state) return;
    const previous = this.state;
    this.state = next;
    if (next === 'up') {
      if (previous === 'down') this.log.info('broker connection restored; cross-node delivery resumes', { dropped: this.dropped });
      else this.log.info('broker connected');
    } else {
      this.log.warn('broker unavailable; delivering to local sockets only while reconnecting', { error: error?.message });
    }
    for (const listener of this.stateListeners) listener(next);
  }

  /** A publish failed while the client looked ready (e.g. one Redis Cluster shard is down): dropped. */
  private readonly publishFailed = (err: unknown): void => {
    this.dropped++;
    this.failed(err);
  };

  /**
   * A command failed. When the whole connection is down, that state change is what gets logged;
   * failures while it looks up (a shard of a cluster) write one line per FAILURE_LOG_INTERVAL_MS,
   * with the number of failures in between.
   */
  private readonly failed = (err: unknown): void => {
    if (this.state !== 'up') return;
    this.failuresSinceLog++;
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
    this.log.warn('broker commands failing; notifications to the affected topics are dropped', {
      error: err instanceof Error ? err.message : String(err),
      failures: this.failuresSinceLog,
    });
    this.lastFailureLog = now;
    this.failuresSinceLog = 0;
  };
}
