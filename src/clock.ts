/**
 * Time as the hub's own timers see it (token expiry, log suppression windows). The real clock by
 * default; tests pass a manual one to fire a timer without waiting for it.
 */

/** An opaque timer handle, only ever given back to the clock that made it. */
export type ClockTimer = object;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` after `ms` milliseconds. A pending timer never keeps the process alive. */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
