/** The SDK's public types. Wire shapes come from the protocol module (type-only: no zod at run time). */
import type { ConnectionInfo, HistoryFrame, HistoryPosition, JoinLeaveFrame, PresenceClient, PresenceStatsFrame } from '../protocol.js';
import type { BackoffOptions } from './backoff.js';
import type { SocketConstructor } from './socket.js';

export type { ConnectionInfo, HistoryPosition, PresenceClient };

/** What `presenceStats()` resolves with. */
export type PresenceStats = Pick<PresenceStatsFrame, 'num_clients' | 'num_users'>;

/** A `join` or `leave` frame without its `type`: which connection entered or left which channel. */
export type MembershipChange = Pick<JoinLeaveFrame, 'channel_id' | 'client'>;

/** What `history()` resolves with: the channel's top `offset` and `epoch`, and the publications asked for, oldest first. */
export type History = Pick<HistoryFrame, 'offset' | 'epoch' | 'publications'>;

export interface HistoryOptions {
  /** The latest `limit` publications (default and most: the namespace's `history_size`). */
  readonly limit?: number;
  /** Only those after this position (none when its epoch is not the channel's). */
  readonly since?: HistoryPosition;
}

/**
 * One history channel joined by a `subscribe` (the app's own, or the SDK's after a reconnect).
 * `recovered` is set when the SDK asked to recover the channel: true = the publications missed while
 * away follow this event, in order; false = they cannot (new epoch, too many, expired), so the app
 * reloads the channel's state from its source of truth. null = a first subscribe, nothing to recover.
 */
export interface SubscribedChannel {
  readonly channel_id: string;
  readonly recovered: boolean | null;
  /** Where the channel is now (null: the hub keeps no history for it any more). */
  readonly position: HistoryPosition | null;
  /** How many recovered publications follow this event (0 unless `recovered` is true). */
  readonly missed: number;
}

/** A frame as received: the hub's own frames, or a notification exactly as its sender wrote it. */
export type Frame = { readonly type?: unknown; readonly [key: string]: unknown };

export type TokenSource = () => string | null | undefined | Promise<string | null | undefined>;

export interface ConnectOptions {
  /** A JWT (bare or `Bearer ...`); absent = a public connection. */
  readonly token?: string | null;
  /**
   * Called before every connection attempt (the first and each reconnect); its token replaces the
   * current one, so an expired token does not lock the client out. A throw counts as a failed attempt.
   */
  readonly getToken?: TokenSource;
  /** The connection's channel (`?channel_id=`); absent = the hub picks one, kept across reconnects. */
  readonly channelId?: string;
  /** A WebSocket class (the `ws` package's in Node 20); default: the global one, else `ws` imported on first use. */
  readonly WebSocket?: SocketConstructor;
  /** Reconnect after the link drops (default true). */
  readonly reconnect?: boolean;
  readonly backoff?: Partial<BackoffOptions>;
  /** App-level ping period, ms (default 25,000; 0 = no pings, so a dead link is only noticed by the OS). */
  readonly pingIntervalMs?: number;
  /** How long a ping may go unanswered before the link counts as dead and is replaced, ms (default 10,000). */
  readonly pingTimeoutMs?: number;
  /** Default reply timeout of `call`, `subscribe`, `unsubscribe`, `presence`, `presenceStats`, `history`, `changeUser` and sends, ms (default 30,000). */
  readonly timeoutMs?: number;
  /** Where a throwing listener's error goes (default console.error). */
  readonly onListenerError?: (err: unknown) => void;
}

export interface CallOptions {
  /** Reply timeout, ms (default: the client's `timeoutMs`). */
  readonly timeoutMs?: number;
  /** Passed to the walker as `ctx.node` (jac-cloud compatibility). */
  readonly node?: string;
}

export interface DisconnectInfo {
  readonly code: number;
  readonly reason: string;
}

/** Events the SDK itself emits. Frames whose `type` is one of these names reach `onAny` only. */
export interface LifecycleEvents {
  /** Every time a connection is ready (first connect and each reconnect), after re-subscribing. */
  connect: ConnectionInfo;
  /** After a reconnect, once the token is re-applied and channels re-subscribed. */
  reconnect: ConnectionInfo;
  /** The link dropped (the hub closed it, the network failed, or pings went unanswered). */
  disconnect: DisconnectInfo;
  /** Once per history channel in each `subscribed` reply, before any publication that follows it. */
  subscribed: SubscribedChannel;
}
export type LifecycleEvent = keyof LifecycleEvents;

/**
 * The hub's `join` / `leave` frames (namespaces with `join_leave`), checked for their shape. On the
 * wire they look like any notification, so a payload of that type with another shape reaches `onAny` only.
 */
export interface MembershipEvents {
  join: MembershipChange;
  leave: MembershipChange;
}
export const lifecycleEvents: ReadonlySet<string> = new Set<LifecycleEvent>(['connect', 'reconnect', 'disconnect', 'subscribed']);

/** A collection query (docs/collections.md): `filter`, `sort`, `limit`, `offset`, `fields`. */
export type { ItemQuery } from '../protocol.js';

/** One frame of a data subscription: `init` holds the items matching the query (replace your copy), the others the changed items (`delete`: their ids). */
export interface ItemsEvent<T = Record<string, unknown>> {
  readonly event: 'init' | 'create' | 'update' | 'delete';
  /** Items for init/create/update; ids (strings) for delete. */
  readonly data: T[] | string[];
}

/** CRUD on one collection's items over the socket; each call resolves with the hub's `data`. */
export interface ItemsApi<T = Record<string, unknown>> {
  create(data: Partial<T>): Promise<T>;
  create(data: Array<Partial<T>>): Promise<T[]>;
  read(query?: import('../protocol.js').ItemQuery): Promise<T[]>;
  get(id: string, query?: import('../protocol.js').ItemQuery): Promise<T>;
  update(id: string, data: Partial<T>): Promise<T>;
  /** Resolves with the ids deleted. */
  delete(ids: string | string[]): Promise<string[]>;
}

export interface ItemsSubscription {
  /** Ends it (no more events; not re-subscribed after a reconnect). */
  unsubscribe(): Promise<void>;
}
