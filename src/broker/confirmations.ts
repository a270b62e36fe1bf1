/**
 * Which topics the server has confirmed on the current subscriber connection, and who waits for
 * which. A waiter ends `true` once each of its topics is confirmed (or no longer wanted), or
 * `false` after the timeout, or at close: it always ends, within `timeoutMs`.
 * Client-agnostic, so it is unit-testable without Redis (see subscriptions.ts for the feeding).
 */

interface Waiter {
  /** Topics of this waiter not yet confirmed. */
  left: number;
  readonly topics: readonly string[];
  readonly resolve: (live: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

export class Confirmations {
  private readonly confirmed = new Set<string>();
  private readonly waiting = new Map<string, Set<Waiter>>();

  /** @param timeoutMs longest a waiter waits, ms. */
  constructor(private readonly timeoutMs: number) {}

  has(topic: string): boolean {
    return this.confirmed.has(topic);
  }

  /** The server confirmed `topic`: its waiters stop waiting for it. */
  confirm(topic: string): void {
    this.confirmed.add(topic);
    this.release(topic);
  }

  /** An UNSUBSCRIBE for `topic` was sent: it is not live until confirmed again. */
  forget(topic: string): void {
    this.confirmed.delete(topic);
  }

  /** The connection dropped: nothing is live until confirmed again; waiters go on waiting (bounded). */
  clear(): void {
    this.confirmed.clear();
  }

  /** Topics someone waits for. */
  awaited(): IterableIterator<string> {
    return this.waiting.keys();
  }

  /** `topic` is done for its waiters: confirmed, or no longer wanted (nothing left to wait for). */
  release(topic: string): void {
    const waiters = this.waiting.get(topic);
    if (waiters === undefined) return;
    this.waiting.delete(topic);
    for (const waiter of waiters) if (--waiter.left === 0) this.end(waiter, true);
  }

  /** Resolves true once every topic of `topics` (distinct, none confirmed yet) is done, false after the timeout. */
  wait(topics: readonly string[]): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end(waiter, false), this.timeoutMs);
      // A waiter never keeps the process alive on its own.
      timer.unref();
      const waiter: Waiter = { left: topics.length, topics, resolve, timer };
      for (const topic of topics) {
        let waiters = this.waiting.get(topic);
        if (waiters === undefined) this.waiting.set(topic, (waiters = new Set()));
        waiters.add(waiter);
      }
    });
  }

  /** Ends every waiter with false (shutdown). */
  closeAll(): void {
    const all = new Set<Waiter>();
    for (const waiters of this.waiting.values()) for (const waiter of waiters) all.add(waiter);
    for (const waiter of all) this.end(waiter, false);
  }

  private end(waiter: Waiter, live: boolean): void {
    clearTimeout(waiter.timer);
    if (!live) {
      for (const topic of waiter.topics) {
        const waiters = this.waiting.get(topic);
        if (waiters === undefined) continue;
        waiters.delete(waiter);
        if (waiters.size === 0) this.waiting.delete(topic);
      }
    }
    waiter.resolve(live);
  }
}
