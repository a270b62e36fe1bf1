/**
 * The topics a node wants versus the ones it has asked the server for. Changes are collected and
 * sent once per event-loop turn (a burst of connects becomes one SUBSCRIBE), and a topic added and
 * removed within the same turn costs nothing. Client-agnostic, so it is unit-testable without Redis.
 *
 * Liveness (`whenLive`): a topic is live once the server confirmed the latest SUBSCRIBE sent for it
 * on the current connection (the command's promise resolved); an UNSUBSCRIBE sent or a dropped
 * connection makes it not live until confirmed again. Waiting is bounded by `confirmTimeoutMs`.
 */
import { Confirmations } from './confirmations.js';

export interface SubscriptionOps {
  subscribe(topics: string[]): Promise<unknown>;
  unsubscribe(topics: string[]): Promise<unknown>;
}

/** Topics per SUBSCRIBE / UNSUBSCRIBE command, so one command stays a bounded size. */
const CHUNK = 500;

/** What `whenLive` answers when it cannot wait: the connection has been down for a whole timeout already. */
const NOT_LIVE: Promise<boolean> = Promise.resolve(false);

/** The default longest wait of `whenLive`, ms (the hub passes config.brokerConfirmTimeoutMs). */
export const CONFIRM_TIMEOUT_MS = 2500;

export class Subscriptions {
  private readonly wanted = new Set<string>();
  /** Asked of the server on the current connection (optimistically, before the reply). */
  private readonly active = new Set<string>();
  private readonly changed = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private timer: NodeJS.Immediate | null = null;
  private connected = false;
  private closed = false;
  private readonly confirmations: Confirmations;
  /** The latest command sent for a topic on this connection and not answered yet, by command number. */
  private readonly latest = new Map<string, number>();
  private commands = 0;
  /** Bumped when the connection drops: replies to commands sent before confirm nothing. */
  private epoch = 0;
  /** Wanted and active but not confirmed (e.g. re-subscribed by the client library itself after a reconnect): asked again, idempotently, because someone waits. */
  private readonly recheck = new Set<string>();
  /** performance.now() ms when the connection was last seen down (the start counts as down). */
  private downAt = performance.now();

  constructor(
    private readonly ops: SubscriptionOps,
    private readonly onError: (err: unknown) => void,
    private readonly confirmTimeoutMs = CONFIRM_TIMEOUT_MS,
  ) {
    this.confirmations = new Confirmations(confirmTimeoutMs);
  }

  add(topic: string): void {
    if (this.wanted.has(topic)) return;
    this.wanted.add(topic);
    this.mark(topic);
  }

  delete(topic: string): void {
    if (!this.wanted.delete(topic)) return;
    // Whoever waited for it has left it (the last local member is gone): nothing to wait for.
    this.confirmations.release(topic);
    this.mark(topic);
  }

  /**
   * null when every wanted topic of `topics` is live now (topics not wanted are ignored), so the
   * caller answers synchronously. Otherwise resolves true once they all are, or false after
   * `confirmTimeoutMs`; at once false if the connection has been down longer than that already.
   */
  whenLive(topics: readonly string[]): Promise<boolean> | null {
    let missing: string[] | null = null;
    for (const topic of topics) {
      if (!this.wanted.has(topic) || this.confirmations.has(topic)) continue;
      if (missing === null) missing = [topic];
      else if (!missing.includes(topic)) missing.push(topic);
    }
    if (missing === null || this.closed) return null;
    if (!this.connected && performance.now() - this.downAt >= this.confirmTimeoutMs) return NOT_LIVE;
    for (const topic of missing) this.askAgainIfIdle(topic);
    return this.confirmations.wait(missing);
  }

  /** A wanted topic held on the server, with no command in flight, but not confirmed: asked again. */
  private askAgainIfIdle(topic: string): void {
    if (!this.active.has(topic)) {
      // Its last command failed: retried with the next flush, which this one asks for.
      if (this.changed.has(topic)) this.schedule();
      return;
    }
    if (this.latest.has(topic)) return;
    this.recheck.add(topic);
    this.schedule();
  }

  /**
   * `changed` holds exactly the topics where wanted and active differ, so it never outgrows the
   * topics that exist, however much churn an outage sees before the next flush.
   */
  private mark(topic: string): void {
    if (this.wanted.has(topic) === this.active.has(topic)) {
      this.changed.delete(topic);
      return;
    }
    this.changed.add(topic);
    this.schedule();
  }

  /**
   * The subscriber connection is ready. `fresh` means the server holds none of our subscriptions
   * (a new connection), so every wanted topic is asked for again.
   */
  up(fresh: boolean): void {
    this.connected = true;
    if (fresh) {
      this.active.clear();
      for (const topic of this.wanted) this.changed.add(topic);
    } else {
      // The library re-subscribes on its own but says nothing when that is done: topics someone waits for are asked again.
      for (const topic of this.confirmations.awaited()) this.askAgainIfIdle(topic);
    }
    this.schedule();
  }

  /** Changes wait in `changed` until `up`; nothing is live until confirmed on the next connection. */
  down(): void {
    if (this.connected) this.downAt = performance.now();
    this.connected = false;
    this.epoch++;
    this.latest.clear();
    this.recheck.clear();
    this.confirmations.clear();
  }

  /** Topics subscribed on the server (as far as this node has asked). */
  get size(): number {
    return this.active.size;
  }

  /** Topics whose subscription still has to be changed on the server. */
  get pending(): number {
    return this.changed.size;
  }

  wants(): ReadonlySet<string> {
    return this.wanted;
  }

  async settled(): Promise<void> {
    while (this.timer !== null || this.inflight.size > 0) {
      if (this.timer !== null) await new Promise<void>((resolve) => setImmediate(resolve));
      else await Promise.all(this.inflight);
    }
  }

  /** Unsubscribes from everything (awaited), then stops. */
  async close(): Promise<void> {
    this.confirmations.closeAll();
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    this.wanted.clear();
    for (const topic of this.active) this.changed.add(topic);
    if (this.connected) this.flush();
    this.closed = true;
    await this.settled();
  }

  private schedule(): void {
    if (this.timer !== null || this.closed || !this.connected) return;
    this.timer = setImmediate(() => {
      this.timer = null;
      this.flush();
    });
  }

  private flush(): void {
    if (!this.connected) return;
    const add: string[] = [];
    const remove: string[] = [];
    for (const topic of this.changed) {
      if (this.wanted.has(topic)) {
        if (!this.active.has(topic)) add.push(topic);
      } else if (this.active.has(topic)) {
        remove.push(topic);
      }
    }
    this.changed.clear();
    for (const topic of this.recheck) if (this.wanted.has(topic) && this.active.has(topic) && !this.latest.has(topic) && !add.includes(topic)) add.push(topic);
    this.recheck.clear();
    for (const topic of add) this.active.add(topic);
    for (const topic of remove) this.active.delete(topic);
    for (let i = 0; i < add.length; i += CHUNK) this.send(add.slice(i, i + CHUNK), true);
    for (let i = 0; i < remove.length; i += CHUNK) this.send(remove.slice(i, i + CHUNK), false);
  }

  private send(topics: string[], subscribe: boolean): void {
    const command = ++this.commands;
    const epoch = this.epoch;
    for (const topic of topics) {
      this.latest.set(topic, command);
      if (!subscribe) this.confirmations.forget(topic);
    }
    const request = subscribe ? this.ops.subscribe(topics) : this.ops.unsubscribe(topics);
    const done: Promise<void> = request.then(
      () => {
        for (const topic of topics) {
          // A later command for the topic (sent after this one, answered after it) decides instead.
          if (this.latest.get(topic) !== command) continue;
          this.latest.delete(topic);
          if (subscribe && epoch === this.epoch && this.active.has(topic)) this.confirmations.confirm(topic);
        }
      },
      (err: unknown) => {
        for (const topic of topics) if (this.latest.get(topic) === command) this.latest.delete(topic);
        // Most often the connection dropped: `up(true)` re-asks for everything. Otherwise the
        // topics are retried with the next change.
        for (const topic of topics) {
          if (subscribe) this.active.delete(topic);
          else this.active.add(topic);
          if (this.wanted.has(topic) !== this.active.has(topic)) this.changed.add(topic);
        }
        this.onError(err);
      },
    );
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }
}
