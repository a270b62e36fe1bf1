/**
 * Runs walkers: one path for WebSocket `walker` frames and `POST /walker/:name`, with one
 * validation step and one error mapping. `run` never throws or rejects: it returns an outcome,
 * synchronously when the schema and the walker are synchronous.
 *
 * The error boundary: everything a walker can do that may throw (its schema's refinements and
 * transforms, `run` itself, reading `.then` of what it returned, encoding its result) happens
 * inside a try/catch or a promise chain that ends in a rejection handler, and every thrown value,
 * however odd, becomes a HubError through `mapError`, which cannot throw either.
 */
import { nanoid } from 'nanoid';
import { isAuthenticated } from '../auth/identity.js';
import type { Broker } from '../broker/broker.js';
import { errorCatalogue, HubError, type ErrorCode, type Issue } from '../errors.js';
import type { Logger } from '../log.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { isThenable, type MaybePromise } from '../maybe.js';
import type { PresenceClient } from '../presence/presence.js';
import { CallContext, type CallerInfo, type ContextServices } from './context.js';
import { encodeJson } from './encode.js';
import type { LoadedWalker } from './loader.js';
import type { WalkerSource } from './registry.js';
import { inputParser, type InputParser, type ParsedInput } from './parse-input.js';
import { describeThrown } from './thrown.js';
import { noMetrics, type Metrics, type WalkerMeter } from '../metrics/sinks.js';

/** Who calls: per connection or request, not per call (the hub keeps one per socket). */
export interface WalkerCall extends CallerInfo {
  /** Aborted when the caller goes away (its socket closed). */
  readonly signal?: AbortSignal | undefined;
}

/** `reports` is the JSON text of the reports array, encoded value by value as the walker produced them. */
export type WalkerOutcome = { ok: true; reports: string } | { ok: false; error: HubError };

export interface RunnerOptions {
  readonly walkerTimeoutMs: number;
  /** Everyone in a channel on every node (`ctx.presence`); none without it. */
  readonly presence?: ((channelId: string) => MaybePromise<PresenceClient[]>) | undefined;
  /** A channel's history (`ctx.history`); none without it. */
  readonly history?: ContextServices['history'];
  /** Collections' items (`ctx.items`); none without it. */
  readonly items?: ContextServices['items'];
}

export class WalkerRunner implements ContextServices {
  /** Calls whose asynchronous part has not settled yet (a drain waits for them). */
  private running = 0;
  private idleWaiters: Array<() => void> = [];
  /**
   * What each walker's calls reuse (its input parser, its metrics by method), made on its first
   * call. Weak: a version that `--watch` replaced is dropped once its last call has finished.
   */
  private readonly prepared = new WeakMap<LoadedWalker, Prepared>();

  constructor(
    private readonly walkers: WalkerSource,
    readonly broker: Broker,
    readonly store: Store,
    private readonly options: RunnerOptions,
    readonly log: Logger,
    private readonly metrics: Pick<Metrics, 'walkerMeter'> = noMetrics,
  ) {}

  get presence(): ((channelId: string) => MaybePromise<PresenceClient[]>) | undefined {
    return this.options.presence;
  }

  get history(): ContextServices['history'] {
    return this.options.history;
  }

  get items(): ContextServices['items'] {
    return this.options.items;
  }

  /** Walker calls still running (over WebSocket and REST). */
  get inflight(): number {
    return this.running;
  }

  /** Resolves once no walker call is running (at once when none is). */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get(name: string): LoadedWalker | undefined {
    return this.walkers.get(name);
  }

  get size(): number {
    return this.walkers.size;
  }

  /**
   * Checks method, auth and `input` (the call's JSON input), then runs the walker. `started`: when
   * the call began, in performance.now() ms, if the caller has read the clock already (the hub
   * reads it once per frame, for the frame budget); read here when absent. Synchronous walkers
   * with synchronous schemas complete without a timer or an extra promise hop; anything async (the
   * schema or the walker) races `walkerTimeoutMs`, counted from the start of the async part.
   */
  run(walker: LoadedWalker, call: WalkerCall, input: unknown, started: number = performance.now()): MaybePromise<WalkerOutcome> {
    const prepared = this.prepare(walker);
    const outcome = this.runChecked(walker, prepared, call, input);
    if (!(outcome instanceof Promise)) {
      this.record(walker, prepared, call.via, outcome, started);
      return outcome;
    }
    this.running++;
    // `runChecked` never rejects (its chain ends in a rejection handler), so this always settles.
    return outcome.then((done) => {
      this.record(walker, prepared, call.via, done, started);
      if (--this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      return done;
    });
  }

  private prepare(walker: LoadedWalker): Prepared {
    let prepared = this.prepared.get(walker);
    if (prepared === undefined) this.prepared.set(walker, (prepared = { parse: inputParser(walker.input), meters: {} }));
    return prepared;
  }

  private record(walker: LoadedWalker, prepared: Prepared, via: WalkerCall['via'], outcome: WalkerOutcome, started: number): void {
    const meter = (prepared.meters[via] ??= this.metrics.walkerMeter(walker.name, via));
    meter(outcome.ok ? 200 : outcome.error.status, (performance.now() - started) / 1000);
  }

  private runChecked(walker: LoadedWalker, prepared: Prepared, call: WalkerCall, input: unknown): MaybePromise<WalkerOutcome> {
    if (!walker.methods.has(call.via)) {
      const how = call.via === 'websocket' ? 'WebSocket' : call.via.toUpperCase();
      return fail(new HubError('method_not_allowed', `Walker ${walker.name} is not open to ${how}`));
    }
    if (walker.auth && !isAuthenticated(call.identity)) return fail(new HubError('unauthorized'));
    const ctx = new CallContext(this, call);
    let outcome: MaybePromise<WalkerOutcome>;
    try {
      const parsed = prepared.parse(input);
      outcome = parsed instanceof Promise ? parsed.then((p) => this.afterParse(walker, ctx, p)) : this.afterParse(walker, ctx, parsed);
    } catch (err) {
      return fail(this.mapError(walker.name, err, call.log));
    }
    return outcome instanceof Promise ? this.guard(walker, call, ctx, outcome) : outcome;
  }

  /** May throw (a walker's synchronous throw, an unencodable result): callers are inside the boundary. */
  private afterParse(walker: LoadedWalker, ctx: CallContext, parsed: ParsedInput): MaybePromise<WalkerOutcome> {
    if (!parsed.ok) return fail(new HubError('invalid_input', undefined, { issues: parsed.issues }));
    const returned = walker.run(ctx, parsed.data);
    if (!isThenable(returned)) return succeed(ctx, returned);
    // Promise.resolve adopts any thenable; a `then` that throws becomes a rejection here.
    return Promise.resolve(returned).then((value) => succeed(ctx, value));
  }

  /** The async tail of a call: the timeout, the caller going away, and the last rejection handler. */
  private guard(walker: LoadedWalker, call: WalkerCall, ctx: CallContext, work: Promise<WalkerOutcome>): Promise<WalkerOutcome> {
    const onCallerGone = () => ctx.abort(new Error('caller disconnected'));
    if (call.signal?.aborted) onCallerGone();
    else call.signal?.addEventListener('abort', onCallerGone, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<WalkerOutcome>((resolve) => {
      timer = setTimeout(() => {
        (call.log ?? this.log).warn('walker timed out', { walker: walker.name, timeout_ms: this.options.walkerTimeoutMs });
        // Resolved before aborting, so the caller's answer does not wait on the walker's abort listeners.
        resolve(fail(new HubError('walker_timeout', `Walker did not finish within ${this.options.walkerTimeoutMs} ms`)));
        ctx.abort(new Error('walker timed out'));
      }, this.options.walkerTimeoutMs);
    });
    const settled = work.then(undefined, (err: unknown) => fail(this.mapError(walker.name, err, call.log)));
    return Promise.race([settled, timeout]).finally(() => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onCallerGone);
    });
  }

  /**
   * Never throws: even reading what was thrown (a Proxy, a getter) is guarded. `log` is the
   * caller's (its lines carry the connection's or request's bindings).
   */
  private mapError(name: string, err: unknown, log: Logger = this.log): HubError {
    try {
      if (err instanceof HubError) return rebuild(err) ?? this.internal(name, new TypeError(`walker threw a malformed HubError (${describeThrown(err)})`), log);
      if (err instanceof StoreUnavailableError) {
        log.warn('walker could not reach the store', { walker: name, error: err.message });
        return new HubError('store_unavailable');
      }
    } catch (inner) {
      return this.internal(name, inner, log);
    }
    return this.internal(name, err, log);
  }

  /** A 500 whose id is quoted to the caller and logged beside the stack (which the caller never sees). */
  private internal(name: string, err: unknown, log: Logger): HubError {
    const errorId = nanoid(12);
    log.error('walker threw', { walker: name, error_id: errorId, error: describeThrown(err) });
    return new HubError('internal', `Walker ${name} failed; quote error id ${errorId}`, { errorId });
  }
}

interface Prepared {
  readonly parse: InputParser;
  readonly meters: Partial<Record<WalkerCall['via'], WalkerMeter>>;
}

function fail(error: HubError): WalkerOutcome {
  return { ok: false, error };
}

/** A returned value other than `undefined` is appended to the reports. May throw UnencodableError. */
function succeed(ctx: CallContext, returned: unknown): WalkerOutcome {
  if (returned !== undefined) ctx.addReport(encodeJson('walker result', returned));
  return { ok: true, reports: ctx.encodedReports() };
}

/**
 * A HubError a walker threw is its answer to the caller, so it is sent as is, but only after
 * each field is checked: the transport encodes it outside this boundary, so a BigInt in `issues`
 * or a getter that throws must not get that far. Returns null when it is not well formed.
 */
function rebuild(err: HubError): HubError | null {
  const { code, status, message, issues, errorId } = err;
  if (typeof code !== 'string' || !Object.hasOwn(errorCatalogue, code)) return null;
  if (typeof message !== 'string' || !Number.isInteger(status) || status < 400 || status > 599) return null;
  if (errorId !== undefined && typeof errorId !== 'string') return null;
  let clean: Issue[] | undefined;
  if (issues !== undefined) {
    if (!Array.isArray(issues)) return null;
    clean = [];
    for (const issue of issues as unknown[]) {
      const { path, message: text } = (issue ?? {}) as { path?: unknown; message?: unknown };
      if (typeof path !== 'string' || typeof text !== 'string') return null;
      clean.push({ path, message: text });
    }
  }
  return new HubError(code as ErrorCode, message, { status, ...(clean ? { issues: clean } : {}), ...(errorId !== undefined ? { errorId } : {}) });
}
