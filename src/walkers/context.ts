/**
 * The `ctx` a walker gets. A class, so one call allocates one object (not a dozen closures), and
 * what most walkers never touch (the abort signal, the data space, the user view) is built lazily.
 */
import { isAuthenticated, type Identity } from '../auth/identity.js';
import type { Broker, TargetKind } from '../broker/broker.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import { scopedData, type WalkerData } from './data.js';
import { encodeJson } from './encode.js';
import { guardedSignal } from './signal.js';
import { describeThrown } from './thrown.js';
import type { WalkerContext, WalkerMethod, WalkerUser } from './define.js';

export interface CallerInfo {
  readonly via: WalkerMethod;
  readonly identity: Identity;
  readonly clientId: string | null;
  readonly channelId: string | null;
  readonly node: string | null;
  /** Sends an encoded frame to the calling socket; absent over REST. */
  readonly self?: ((frame: string) => void) | undefined;
  /** The caller's logger (bindings: `client_id` or `request_id`); the runner's when absent. */
  readonly log?: Logger | undefined;
}

export interface ContextServices {
  readonly broker: Broker;
  readonly store: Store;
  readonly log: Logger;
}

export class CallContext implements WalkerContext {
  /**
   * Each report as JSON text, encoded when reported (so a later mutation does not change it): the
   * first one alone (most walkers report once), the rest in an array made at the second.
   */
  private firstReport: string | null = null;
  private moreReports: string[] | null = null;
  private controller: AbortController | null = null;
  private abortReason: Error | null = null;
  private userView: WalkerUser | null | undefined = undefined;
  private dataView: WalkerData | undefined = undefined;

  constructor(
    private readonly services: ContextServices,
    private readonly caller: CallerInfo,
  ) {}

  get via(): WalkerMethod {
    return this.caller.via;
  }
  get root_id(): string {
    return this.caller.identity.root_id;
  }
  get client_id(): string | null {
    return this.caller.clientId;
  }
  get channel_id(): string | null {
    return this.caller.channelId;
  }
  get node(): string | null {
    return this.caller.node;
  }
  get log(): Logger {
    return this.caller.log ?? this.services.log;
  }

  get user(): WalkerUser | null {
    if (this.userView === undefined) {
      const { identity } = this.caller;
      const claims = identity.claims;
      this.userView =
        identity.user_id !== null && claims !== null
          ? { id: identity.user_id, root_id: identity.root_id, email: typeof claims['email'] === 'string' ? claims['email'] : null, claims }
          : null;
    }
    return this.userView;
  }

  get data(): WalkerData {
    this.dataView ??= scopedData(this.services.store, isAuthenticated(this.caller.identity) ? this.caller.identity.root_id : null);
    return this.dataView;
  }

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      guardedSignal(this.controller.signal, (err) => this.services.log.error('walker abort listener threw', { error: describeThrown(err) }));
      if (this.abortReason !== null) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Aborts `signal` (now, or as soon as the walker first reads it). */
  abort(reason: Error): void {
    this.abortReason ??= reason;
    this.controller?.abort(reason);
  }

  notifyUsers(rootIds: readonly string[], data: unknown): void {
    this.notify('users', rootIds, data);
  }
  notifyChannels(channelIds: readonly string[], data: unknown): void {
    this.notify('channels', channelIds, data);
  }
  notifyClients(clientIds: readonly string[], data: unknown): void {
    this.notify('clients', clientIds, data);
  }
  broadcast(data: unknown): void {
    const frame = encodeJson('ctx.broadcast', data);
    this.services.broker.publish({ kind: 'broadcast', ids: [], frame });
  }
  // Encoded even over REST, where `self` goes nowhere, so a bad payload fails the same way on both.
  self(data: unknown): void {
    const frame = encodeJson('ctx.self', data);
    this.caller.self?.(frame);
  }
  report(value: unknown): void {
    this.addReport(encodeJson('ctx.report', value));
  }

  /** Appends an already encoded report (the runner adds the walker's return value). */
  addReport(encoded: string): void {
    if (this.firstReport === null) this.firstReport = encoded;
    else (this.moreReports ??= []).push(encoded);
  }

  /** The JSON text of the reports array. */
  encodedReports(): string {
    if (this.firstReport === null) return '[]';
    if (this.moreReports === null) return `[${this.firstReport}]`;
    return `[${this.firstReport},${this.moreReports.join(',')}]`;
  }

  private notify(kind: Exclude<TargetKind, 'broadcast'>, ids: readonly string[], data: unknown): void {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
      throw new TypeError(`ctx.${notifyMethod[kind]}: ids must be an array of strings`);
    }
    // Encoded before the empty-list check, so a bad payload fails whatever the ids are.
    const frame = encodeJson(`ctx.${notifyMethod[kind]}`, data);
    if (ids.length === 0) return;
    this.services.broker.publish({ kind, ids: [...ids], frame });
  }
}

const notifyMethod: Record<Exclude<TargetKind, 'broadcast'>, string> = { users: 'notifyUsers', channels: 'notifyChannels', clients: 'notifyClients' };
