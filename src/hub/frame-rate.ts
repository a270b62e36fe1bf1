/**
 * Per-connection frame budget: a token bucket (sustained rate + burst), socket-free and clock-free
 * (the caller passes the time), so it is unit-tested with a fake clock. One instance per socket,
 * made at upgrade; `take` does arithmetic on four numbers — no allocation, no timer per frame.
 */

export interface FrameRateOptions {
  /** Sustained frames per second; 0 turns the budget off. */
  readonly perSec: number;
  /** Frames that may arrive at once (the bucket's size). */
  readonly burst: number;
  /** Refused frames in a row after which the connection is closed (default GRACE_FRAMES). */
  readonly graceFrames?: number;
}

/**
 * A client told `rate_limited` this many times in a row without a single frame getting through
 * is not listening: it is closed. 50 error frames is a bounded cost, and a client that backs off
 * after the first error never gets near it.
 */
export const GRACE_FRAMES = 50;

/** `accept`: handle the frame; `refuse`: drop it and answer `rate_limited`; `close`: drop it and close (still over after the grace). */
export type Verdict = 'accept' | 'refuse' | 'close';

export class FrameBudget {
  private tokens: number;
  private last: number;
  private refusedInARow = 0;
  private readonly perMs: number;
  private readonly burst: number;
  private readonly grace: number;

  /** `now` is a monotonic time in ms (performance.now() in the hub). */
  constructor(options: FrameRateOptions, now: number) {
    this.perMs = options.perSec / 1000;
    this.burst = options.burst;
    this.grace = options.graceFrames ?? GRACE_FRAMES;
    this.tokens = options.burst;
    this.last = now;
  }

  take(now: number): Verdict {
    // A clock that goes backwards (it should not) refills nothing rather than draining the bucket.
    const elapsed = now > this.last ? now - this.last : 0;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return 'accept';
    }
    this.refusedInARow++;
    return this.refusedInARow >= this.grace ? 'close' : 'refuse';
  }
}
