/**
 * Runs walkers: one path for WebSocket `walker` frames and `POST /walker/:name`, with one
 * validation step and one error mapping. `run` never throws or rejects: it returns an outcome,
 * synchronously when the schema and the walker are synchronous.
 */
import { nanoid } from 'nanoid';
import { isAuthenticated } from '../auth/identity.js';
import type { Broker } from '../broker/broker.js';
import { HubError, toIssues } from '../errors.js';
import type { Logger } from '../log.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { isThenable, type MaybePromise } from '../maybe.js';
import { CallContext, type CallerInfo, type ContextServices } from './context.js';
import type { InputSchema } from './define.js';
import type { LoadedWalker } from './loader.js';

export interface WalkerCall extends CallerInfo {
  readonly input: unknown;
  /** Aborted when the caller goes away (its socket closed). */
  readonly signal?: AbortSignal;
}

export type WalkerOutcome = { ok: true; reports: unknown[] } | { ok: false; error: HubError };

export interface RunnerOptions {
  readonly walkerTimeoutMs: number;
}

export class WalkerRunner implements ContextServices {
  constructor(
    private readonly walkers: ReadonlyMap<string, LoadedWalker>,
    readonly broker: Broker,
    readonly store: Store,
    private readonly options: RunnerOptions,
    readonly log: Logger,
  ) {}

  get(name: string): LoadedWalker | undefined {
    return this.walkers.get(name);
  }

  get size(): number {
    return this.walkers.size;
  }

  /**
   * Checks method, auth and input, then runs the walker. Synchronous walkers with synchronous
   * schemas complete without a timer or an extra promise hop; async ones race `walkerTimeoutMs`.
   */
  run(walker: LoadedWalker, call: WalkerCall): MaybePromise<WalkerOutcome> {
    if (!walker.methods.has(call.via)) {
      const how = call.via === 'post' ? 'POST' : 'WebSocket';
      return fail(new HubError('method_not_allowed', `Walker ${walker.name} is not open to ${how}`));
    }
    if (walker.auth && !isAuthenticated(call.identity)) return fail(new HubError('unauthorized'));
    let parsed: ReturnType<InputSchema['safeParse']>;
    try {
      parsed = walker.input.safeParse(call.input);
    } catch (err) {
      // A schema with async refinements or transforms cannot parse synchronously.
      if (!isAsyncParseError(err)) return fail(this.mapError(walker.name, err, call.log));
      return walker.input.safeParseAsync(call.input).then((p) => (p.success ? this.execute(walker, call, p.data) : invalid(p.error.issues)));
    }
    return parsed.success ? this.execute(walker, call, parsed.data) : invalid(parsed.error.issues);
  }

  private execute(walker: LoadedWalker, call: WalkerCall, input: unknown): MaybePromise<WalkerOutcome> {
    const ctx = new CallContext(this, call);
    let returned: unknown;
    try {
      returned = walker.run(ctx, input);
    } catch (err) {
      return fail(this.mapError(walker.name, err, call.log));
    }
    if (!isThenable(returned)) return succeed(ctx, returned);

    const onCallerGone = () => ctx.abort(new Error('caller disconnected'));
    call.signal?.addEventListener('abort', onCallerGone, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<WalkerOutcome>((resolve) => {
      timer = setTimeout(() => {
        ctx.abort(new Error('walker timed out'));
        (call.log ?? this.log).warn('walker timed out', { walker: walker.name, timeout_ms: this.options.walkerTimeoutMs });
        resolve(fail(new HubError('walker_timeout', `Walker did not finish within ${this.options.walkerTimeoutMs} ms`)));
      }, this.options.walkerTimeoutMs);
    });
    const execution = Promise.resolve(returned).then(
      (value) => succeed(ctx, value),
      (err: unknown) => fail(this.mapError(walker.name, err, call.log)),
    );
    return Promise.race([execution, timeout]).finally(() => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onCallerGone);
    });
  }

  /** `log` is the caller's (its lines carry the connection's or request's bindings). */
  private mapError(name: string, err: unknown, log: Logger = this.log): HubError {
    if (err instanceof HubError) return err;
    if (err instanceof StoreUnavailableError) {
      log.warn('walker could not reach the store', { walker: name, error: err.message });
      return new HubError('store_unavailable');
    }
    const errorId = nanoid(12);
    log.error('walker threw', { walker: name, error_id: errorId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return new HubError('internal', `Walker ${name} failed; quote error id ${errorId}`, { errorId });
  }
}

function fail(error: HubError): WalkerOutcome {
  return { ok: false, error };
}

function invalid(issues: Parameters<typeof toIssues>[0]): WalkerOutcome {
  return fail(new HubError('invalid_input', undefined, { issues: toIssues(issues) }));
}

/** A returned value other than `undefined` is appended to the reports. */
function succeed(ctx: CallContext, returned: unknown): WalkerOutcome {
  if (returned !== undefined) ctx.reports.push(returned);
  return { ok: true, reports: ctx.reports };
}


/** zod throws `$ZodAsyncError` when a synchronous parse meets async refinements or transforms. */
function isAsyncParseError(err: unknown): boolean {
  return err instanceof Error && err.constructor.name === '$ZodAsyncError';
}
