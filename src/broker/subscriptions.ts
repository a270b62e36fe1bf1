/**
 * The topics a node wants versus the ones it has asked the server for. Changes are collected and
 * sent once per event-loop turn (a burst of connects becomes one SUBSCRIBE), and a topic added and
 * removed within the same turn costs nothing. Client-agnostic, so it is unit-testable without Redis.
 */

export interface SubscriptionOps {
  subscribe(topics: string[]): Promise<unknown>;
  unsubscribe(topics: string[]): Promise<unknown>;
}

/** Topics per SUBSCRIBE / UNSUBSCRIBE command, so one command stays a bounded size. */
const CHUNK = 500;

export class Subscriptions {
  private readonly wanted = new Set<string>();
  /** Asked of the server on the current connection (optimistically, before the reply). */
  private readonly active = new Set<string>();
  private readonly changed = new Set<string>();
  private readonly inflight = new Set<Promise<void>>();
  private timer: NodeJS.Immediate | null = null;
  private connected = false;
  private closed = false;

  constructor(
    private readonly ops: SubscriptionOps,
    private readonly onError: (err: unknown) => void,
  ) {}

  add(topic: string): void {
    if (this.wanted.has(topic)) return;
    this.wanted.add(topic);
    this.mark(topic);
  }

  delete(topic: string): void {
    if (!this.wanted.delete(topic)) return;
    this.mark(topic);
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
    }
    this.schedule();
  }

  /** Changes wait in `changed` until `up`. */
  down(): void {
    this.connected = false;
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
    for (const topic of add) this.active.add(topic);
    for (const topic of remove) this.active.delete(topic);
    for (let i = 0; i < add.length; i += CHUNK) this.send(add.slice(i, i + CHUNK), true);
    for (let i = 0; i < remove.length; i += CHUNK) this.send(remove.slice(i, i + CHUNK), false);
  }

  private send(topics: string[], subscribe: boolean): void {
    const request = subscribe ? this.ops.subscribe(topics) : this.ops.unsubscribe(topics);
    const done: Promise<void> = request.then(
      () => undefined,
      (err: unknown) => {
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
