/** Requests waiting for the reply that echoes their `uid`, each with its own timeout. */
import { HubClientError } from './errors.js';

interface Entry {
  readonly resolve: (frame: Record<string, unknown>) => void;
  readonly reject: (err: HubClientError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** Takes frames that come before the final reply (true = taken, keep waiting). */
  readonly hold: ((frame: Record<string, unknown>) => boolean) | undefined;
}

export class Pending {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  /** Per client instance, so uids of two clients in one page never look alike in logs. */
  private readonly prefix = `c${Math.random().toString(36).slice(2, 8)}-`;

  nextUid(): string {
    return this.prefix + (++this.seq).toString(36);
  }

  /** Waits for the reply to `uid`; rejects with `timeout` after `timeoutMs`. */
  wait(uid: string, timeoutMs: number, what: string, hold?: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.entries.delete(uid);
        reject(new HubClientError(0, { code: 'timeout', message: `${what}: no reply within ${timeoutMs} ms` }));
      }, timeoutMs);
      this.entries.set(uid, { resolve, reject, timer, hold });
    });
  }

  /** Hands a frame to its waiting request; false when no request waits for that uid. */
  settle(uid: string, frame: Record<string, unknown>): boolean {
    const entry = this.entries.get(uid);
    if (!entry) return false;
    if (entry.hold?.(frame)) return true;
    this.entries.delete(uid);
    clearTimeout(entry.timer);
    entry.resolve(frame);
    return true;
  }

  has(uid: string): boolean {
    return this.entries.has(uid);
  }

  /** Fails every waiting request (the link dropped: their replies can no longer arrive). */
  rejectAll(err: HubClientError): void {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) {
      clearTimeout(entry.timer);
      entry.reject(err);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
