/**
 * The `ctx` a walker gets. A class, so one call allocates one object (not a dozen closures), and
 * what most walkers never touch (the abort signal, the data space, the user view) is built lazily.
 */
import { isAuthenticated, type Identity } from '../auth/identity.js';
import type { Broker, TargetKind } from '../broker/broker.js';
import type { Logger } from '../log.js';
import type { MaybePromise } from '../maybe.js';
import { statsOf, type PresenceClient, type PresenceStats } from '../presence/presence.js';
import { HubError } from '../errors.js';
import { MAX_ID_LENGTH, MAX_TARGET_IDS } from '../protocol.js';
import type { Store } from '../store/store.js';
import { scopedData, type WalkerData } from './data.js';
import { encodeJson } from './encode.js';
import { guardedSignal } from './signal.js';
import { describeThrown } from './thrown.js';
import type { ChannelHistory, WalkerContext, WalkerItems, WalkerMethod, WalkerUser } from './define.js';

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
  /** Joins and leaves for the calling connection; absent over REST. */
  readonly channels?: CallerChannels | undefined;
}

/** What `ctx.subscribe` / `ctx.unsubscribe` do to the calling connection (the hub provides it). */
export interface CallerChannels {
  /** Joins, and resolves with every channel the connection is in once the joins are live. */
  subscribe(channelIds: readonly string[]): Promise<string[]>;
  unsubscribe(channelIds: readonly string[]): string[];
}

export interface ContextServices {
  readonly broker: Broker;
  readonly store: Store;
  readonly log: Logger;
  /** A channel's history, read for a walker; absent when no namespace keeps history. */
  readonly history?: ((channelId: string, options: { limit?: number | undefined; since?: { offset: number; epoch: string } | undefined }) => MaybePromise<ChannelHistory>) | undefined;
  /** Everyone in a channel on every node; absent when the runner runs without a hub (no channels). */
  readonly presence?: ((channelId: string) => MaybePromise<PresenceClient[]>) | undefined;
  /** `ctx.items`: a collection's items for a caller's root (the owner of what it creates); absent without collections. */
  readonly items?: ((collection: string, owner: string) => WalkerItems) | undefined;
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

  subscribe(channelIds: readonly string[]): Promise<string[]> {
    return this.channelCall('subscribe', channelIds, (channels, ids) => channels.subscribe(ids));
  }
  unsubscribe(channelIds: readonly string[]): Promise<string[]> {
    return this.channelCall('unsubscribe', channelIds, (channels, ids) => channels.unsubscribe(ids));
  }
  async presence(channelId: string): Promise<PresenceClient[]> {
    if (typeof channelId !== 'string' || channelId === '') throw new TypeError('ctx.presence: channelId must be a non-empty string');
    const list = this.services.presence;
    if (list === undefined) return [];
    try {
      return await list(channelId);
    } catch {
      // The shared store's failure is the caller's 503, not the walker's bug.
      throw new HubError('presence_unavailable');
    }
  }
  async history(channelId: string, options: { limit?: number; since?: { offset: number; epoch: string } } = {}): Promise<ChannelHistory> {
    if (typeof channelId !== 'string' || channelId === '') throw new TypeError('ctx.history: channelId must be a non-empty string');
    const read = this.services.history;
    if (read === undefined) throw new HubError('forbidden', `Channel "${channelId.slice(0, 128)}" keeps no history`);
    return read(channelId, { limit: options.limit, since: options.since });
  }
  items(collection: string): WalkerItems {
    if (typeof collection !== 'string' || collection === '') throw new TypeError('ctx.items: collection must be a non-empty string');
    const items = this.services.items;
    if (items === undefined) throw new HubError('unknown_collection', `Unknown collection "${collection.slice(0, 128)}" (no collections are loaded)`);
    return items(collection, this.caller.identity.root_id);
  }
  async presenceStats(channelId: string): Promise<PresenceStats> {
    return statsOf(await this.presence(channelId));
  }

  /** Checks the ids and that there is a calling connection; the call's failures are rejections. */
  private async channelCall(name: string, channelIds: readonly string[], act: (channels: CallerChannels, ids: string[]) => MaybePromise<string[]>): Promise<string[]> {
    if (!Array.isArray(channelIds) || channelIds.some((id) => typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH) || channelIds.length > MAX_TARGET_IDS) {
      throw new TypeError(`ctx.${name}: channelIds must be an array of at most ${MAX_TARGET_IDS} non-empty strings of at most ${MAX_ID_LENGTH} characters`);
    }
    const channels = this.caller.channels;
    if (channels === undefined) throw new HubError('method_not_allowed', `ctx.${name} needs a WebSocket caller; a REST call has no connection to ${name}`);
    return act(channels, [...channelIds]);
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
