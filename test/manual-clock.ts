/** A clock that only moves when a test says so: timers fire inside `advance`, in time order. */
import type { Clock, ClockTimer } from '../src/clock.js';

interface Pending {
  readonly at: number;
  readonly callback: () => void;
}

export class ManualClock implements Clock {
  private time: number;
  private readonly pending = new Set<Pending>();

  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const timer: Pending = { at: this.time + Math.max(0, ms), callback };
    this.pending.add(timer);
    return timer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.pending.delete(timer as Pending);
  }

  /** Timers not yet fired or cleared. */
  get timers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones set while firing). */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const t of this.pending) if (t.at <= until && (next === undefined || t.at < next.at)) next = t;
      if (next === undefined) break;
      this.pending.delete(next);
      this.time = next.at;
      next.callback();
    }
    this.time = until;
  }
}
