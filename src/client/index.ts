/**
 * walker-hub/client: a hub connection for browsers and Node. Imports only types from the wire
 * protocol (no zod at run time) and the error catalogue's statuses (a plain object).
 */
import { HubClient } from './client.js';
import type { ConnectOptions } from './types.js';

/** Opens a connection to a hub (`http(s)://` or `ws(s)://` origin, or a full `/websocket` URL). */
export function connect(url: string, options: ConnectOptions = {}): HubClient {
  return new HubClient(url, options);
}

export { HubClient } from './client.js';
export { HubClientError, type ClientErrorCode } from './errors.js';
export { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
export { resolveRedirect, pageMatches, type RedirectAction } from './redirect.js';
export type { SocketConstructor, SocketLike } from './socket.js';
export type { ItemQuery, ItemsApi, ItemsEvent, ItemsSubscription, CallOptions, ConnectOptions, ConnectionInfo, DisconnectInfo, Frame, History, HistoryOptions, HistoryPosition, LifecycleEvent, LifecycleEvents, MembershipChange, MembershipEvents, PresenceClient, PresenceStats, SubscribedChannel, TokenSource } from './types.js';
