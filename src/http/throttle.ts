/**
 * Attempt budgets for expensive REST calls (login, register), keyed by client IP or account.
 * Behind a tiny interface so the in-memory limiter can be swapped for a shared one (Redis, see
 * redis-throttle.ts) without touching the routes: a factory receives the budget and returns a `Throttle`.
 */
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

export interface ThrottleBudget {
  /** Attempts allowed per window; 0 turns the throttle off. */
  readonly points: number;
  /** Window length, seconds. */
  readonly durationSec: number;
}

/** `retryAfterSec` is whole seconds (at least 1), as `Retry-After` wants. */
export type ThrottleResult = { readonly ok: true } | { readonly ok: false; readonly retryAfterSec: number };

export interface Throttle {
  /** Spends one attempt for `key`. Resolves, never rejects for being over budget. */
  consume(key: string): Promise<ThrottleResult>;
  /** Forgets `key` (a successful login clears its account's failures). */
  reset(key: string): Promise<void>;
}

export type ThrottleFactory = (name: string, budget: ThrottleBudget) => Throttle;

const allowed: ThrottleResult = Object.freeze({ ok: true });

/** A throttle that lets everything through (budget 0). */
export const unlimited: Throttle = {
  consume: () => Promise.resolve(allowed),
  reset: () => Promise.resolve(),
};

/** One process's memory: fine for a single node; several nodes each count separately. */
export const memoryThrottle: ThrottleFactory = (name, budget) => {
  if (budget.points === 0) return unlimited;
  return limiterThrottle(new RateLimiterMemory({ keyPrefix: name, points: budget.points, duration: budget.durationSec }));
};

/** A `Throttle` over any rate-limiter-flexible limiter (memory, or Redis in redis-throttle.ts). */
export function limiterThrottle(limiter: RateLimiterAbstract): Throttle {
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return allowed;
      } catch (err) {
        // rate-limiter-flexible rejects with a RateLimiterRes when over budget; anything else is a bug
        // (or, for a store-backed limiter, a store failure its insurance limiter could not absorb).
        if (!(err instanceof RateLimiterRes)) throw err;
        return { ok: false, retryAfterSec: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      }
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}
