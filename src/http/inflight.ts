/**
 * REST requests in flight, for the drain: each route handler is wrapped so the hub knows how many
 * requests are being answered, can wait for them, and refuses new ones (503 `unavailable`) once
 * draining. GET routes (health, readiness, metrics) are not wrapped: they answer during a drain.
 */
import { HubError } from '../errors.js';
import type { MaybePromise } from '../maybe.js';
import type { Metrics } from '../metrics/sinks.js';
import { errorResponse, type RestRequest, type RestResponse } from './request.js';

type Route = (req: RestRequest) => MaybePromise<RestResponse>;

export class RequestTracker {
  private running = 0;
  private draining = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly metrics: Pick<Metrics, 'rateLimited'>) {}

  get inflight(): number {
    return this.running;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** From now on new requests get 503; those already running finish. */
  drain(): void {
    this.draining = true;
  }

  /** Resolves once no request is being answered (at once when none is). */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** `budgeted`: a 429 from this route is a rate-limit refusal (login and register). */
  wrap(route: Route, options: { budgeted?: boolean } = {}): Route {
    const budgeted = options.budgeted === true;
    return (req) => {
      if (this.draining) return errorResponse(new HubError('unavailable', 'The hub is draining; retry on another node'));
      this.running++;
      let response: MaybePromise<RestResponse>;
      try {
        response = route(req);
      } catch (err) {
        this.settled();
        throw err;
      }
      if (response instanceof Promise) {
        return response.then(
          (ready) => this.finished(ready, budgeted),
          (err: unknown) => {
            this.settled();
            throw err;
          },
        );
      }
      return this.finished(response, budgeted);
    };
  }

  /** A method, not a closure made per request (tsx names every closure it creates, which costs on this path). */
  private finished(ready: RestResponse, budgeted: boolean): RestResponse {
    this.settled();
    if (budgeted && ready.status === 429) this.metrics.rateLimited('auth');
    return ready;
  }

  private settled(): void {
    if (--this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
