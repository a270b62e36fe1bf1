/**
 * Runs walkers: one path for WebSocket `walker` frames and `POST /walker/:name`, with one
 * validation step and one error mapping. `run` never rejects; it resolves to an outcome.
 */
import { nanoid } from 'nanoid';
import { isAuthenticated, type Identity } from '../auth.js';
import type { Broker, TargetKind } from '../broker.js';
import { HubError, toIssues } from '../errors.js';
import type { Logger } from '../log.js';
import { encode } from '../protocol.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { scopedData } from './data.js';
import type { WalkerContext, WalkerMethod } from './define.js';
import type { LoadedWalker } from './loader.js';

export interface WalkerCall {
  readonly via: WalkerMethod;
  readonly input: unknown;
  readonly identity: Identity;
  readonly clientId: string | null;
  readonly channelId: string | null;
  readonly node: string | null;
  /** Sends an encoded frame to the calling socket; absent over REST. */
  readonly self?: (frame: string) => void;
  /** Aborted when the caller goes away (its socket closed). */
  readonly signal?: AbortSignal;
}

export type WalkerOutcome = { ok: true; reports: unknown[] } | { ok: false; error: HubError };

export interface RunnerOptions {
  readonly walkerTimeoutMs: number;
}

export class WalkerRunner {
  constructor(
    private readonly walkers: ReadonlyMap<string, LoadedWalker>,
    private readonly broker: Broker,
    private readonly store: Store,
    private readonly options: RunnerOptions,
    private readonly log: Logger,
  ) {}

  get(name: string): LoadedWalker | undefined {
    return this.walkers.get(name);
  }

  get size(): number {
    return this.walkers.size;
  }

  async run(walker: LoadedWalker, call: WalkerCall): Promise<WalkerOutcome> {
    if (!walker.methods.has(call.via)) {
      const how = call.via === 'post' ? 'POST' : 'WebSocket';
      return fail(new HubError('method_not_allowed', `Walker ${walker.name} is not open to ${how}`));
    }
    if (walker.auth && !isAuthenticated(call.identity)) return fail(new HubError('unauthorized'));
    const parsed = await walker.input.safeParseAsync(call.input);
    if (!parsed.success) return fail(new HubError('invalid_input', undefined, { issues: toIssues(parsed.error.issues) }));

    const reports: unknown[] = [];
    const controller = new AbortController();
    const onCallerGone = () => controller.abort(new Error('caller disconnected'));
    call.signal?.addEventListener('abort', onCallerGone, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<WalkerOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error('walker timed out'));
        this.log.warn('walker timed out', { walker: walker.name, timeout_ms: this.options.walkerTimeoutMs });
        resolve(fail(new HubError('walker_timeout', `Walker did not finish within ${this.options.walkerTimeoutMs} ms`)));
      }, this.options.walkerTimeoutMs);
    });
    const ctx = this.context(call, reports, controller.signal);
    const execution = (async (): Promise<WalkerOutcome> => {
      try {
        const returned = await walker.run(ctx, parsed.data);
        if (returned !== undefined) reports.push(returned);
        return { ok: true, reports };
      } catch (err) {
        return fail(this.mapError(walker.name, err));
      }
    })();
    try {
      return await Promise.race([execution, timeout]);
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onCallerGone);
    }
  }

  private context(call: WalkerCall, reports: unknown[], signal: AbortSignal): WalkerContext {
    const { identity } = call;
    const notify = (kind: TargetKind, ids: readonly string[], data: unknown) => {
      if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
        throw new TypeError(`notify ${kind}: ids must be an array of strings`);
      }
      if (ids.length === 0) return;
      this.broker.publish({ kind, ids: [...ids], frame: encode.payload(data) });
    };
    const self = call.self;
    return {
      via: call.via,
      root_id: identity.root_id,
      user:
        identity.user_id !== null && identity.claims !== null
          ? { id: identity.user_id, root_id: identity.root_id, email: typeof identity.claims['email'] === 'string' ? identity.claims['email'] : null, claims: identity.claims }
          : null,
      data: scopedData(this.store, isAuthenticated(identity) ? identity.root_id : null),
      client_id: call.clientId,
      channel_id: call.channelId,
      node: call.node,
      signal,
      log: this.log,
      notifyUsers: (ids, data) => notify('users', ids, data),
      notifyChannels: (ids, data) => notify('channels', ids, data),
      notifyClients: (ids, data) => notify('clients', ids, data),
      self: (data) => self?.(encode.payload(data)),
      report: (value) => void reports.push(value),
    };
  }

  private mapError(name: string, err: unknown): HubError {
    if (err instanceof HubError) return err;
    if (err instanceof StoreUnavailableError) {
      this.log.warn('walker could not reach the store', { walker: name, error: err.message });
      return new HubError('store_unavailable');
    }
    const errorId = nanoid(12);
    this.log.error('walker threw', { walker: name, error_id: errorId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return new HubError('internal', `Walker ${name} failed; quote error id ${errorId}`, { errorId });
  }
}

function fail(error: HubError): WalkerOutcome {
  return { ok: false, error };
}
