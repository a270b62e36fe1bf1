/**
 * The walker module contract: `export default defineWalker({ name?, input, auth?, methods?, run })`.
 */
import { z } from 'zod';
import { HubError, type Issue } from '../errors.js';
import type { JwtClaims } from '../auth/jwt.js';
import type { PresenceClient, PresenceStats } from '../presence/presence.js';
import type { Logger } from '../log.js';
import type { WalkerData } from './data.js';
import type { ItemQuery } from '../protocol.js';

/** jac-cloud's `__specs__.methods`. GET, PUT, PATCH and DELETE are served by the jac-cloud profile's REST routes. */
export const walkerMethods = ['websocket', 'post', 'get', 'put', 'patch', 'delete'] as const;
export type WalkerMethod = (typeof walkerMethods)[number];

/** The caller, as a walker sees it. `null` for the public (unauthenticated) identity. */
export interface WalkerUser {
  readonly id: string;
  readonly root_id: string;
  /** From the token's `email` claim (tokens issued by /user/login carry it); null if absent. */
  readonly email: string | null;
  readonly claims: Readonly<JwtClaims>;
}

export interface WalkerContext {
  /** How the walker was triggered. */
  readonly via: WalkerMethod;
  /** The caller's root id (the public root for unauthenticated callers). */
  readonly root_id: string;
  readonly user: WalkerUser | null;
  /** Set when triggered over WebSocket. */
  readonly client_id: string | null;
  readonly channel_id: string | null;
  /** The `node` field of the walker frame, passed through for jac-cloud compatibility. */
  readonly node: string | null;
  /** Aborted when the walker times out or its WebSocket closes. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /**
   * Each sends `data` (encoded once) to every connection of the listed users / channels / clients.
   * Like `self` and `report`, throws a TypeError at the call, sending nothing, when `data` cannot be
   * encoded as JSON (a BigInt, a cycle, too deep, a throwing `toJSON`, `undefined`).
   */
  notifyUsers(rootIds: readonly string[], data: unknown): void;
  notifyChannels(channelIds: readonly string[], data: unknown): void;
  notifyClients(clientIds: readonly string[], data: unknown): void;
  /** Sends `data` (encoded once) to every connected client, public and authenticated, on every node; throws like `notify*`. */
  broadcast(data: unknown): void;
  /** Sends `data` to the calling socket; a no-op over REST, as in jac-cloud. */
  self(data: unknown): void;
  /** Appends a value to the reports returned to the caller, encoded now (later changes to it are not seen). */
  report(value: unknown): void;
  /** Persistent key-value data of the caller's root (authenticated callers only). */
  readonly data: WalkerData;
  /**
   * Joins the calling connection to channels, whatever their namespace's `subscribe` rule (the
   * server decides); resolves with every channel the connection is in once the joins are live (as
   * `subscribed` would be sent). Rejects over REST, where there is no connection.
   */
  subscribe(channelIds: readonly string[]): Promise<string[]>;
  /** Removes the calling connection from channels; resolves with the channels it is still in. Rejects over REST. */
  unsubscribe(channelIds: readonly string[]): Promise<string[]>;
  /** Everyone in a channel, on every node (namespaces with presence; no permission check: walkers are server code). */
  presence(channelId: string): Promise<PresenceClient[]>;
  presenceStats(channelId: string): Promise<PresenceStats>;
  /**
   * A channel's history (namespaces that keep it): where it is and the latest `limit` publications,
   * or those after `since`; each `data` parsed. Throws `forbidden` for a channel without history.
   */
  history(channelId: string, options?: { limit?: number; since?: { offset: number; epoch: string } }): Promise<ChannelHistory>;
  /**
   * Items of a collection (docs/collections.md), as the server: access rules do not bind a walker;
   * items it creates are owned by its caller's root. Writes send the same events as clients' writes.
   */
  items(collection: string): WalkerItems;
}

/** What `ctx.items(C)` offers; items are in their public form (`id`, fields, `owner`, times). */
export interface WalkerItems {
  /** One item, or several (an array of at most 100): validated by the collection's schema. */
  create(data: Record<string, unknown>): Promise<Record<string, unknown>>;
  create(data: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>>;
  read(query?: ItemQuery): Promise<Array<Record<string, unknown>>>;
  /** Rejects with `not_found` when there is no such item. */
  get(id: string): Promise<Record<string, unknown>>;
  /** Changes the given fields; the item after the change must pass the schema. */
  update(id: string, data: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Resolves with the ids deleted; rejects with `not_found` for a missing one. */
  delete(ids: string | readonly string[]): Promise<string[]>;
}

/** What `ctx.history` answers. */
export interface ChannelHistory {
  readonly offset: number;
  readonly epoch: string;
  readonly publications: Array<{ offset: number; data: unknown }>;
}

/** Any schema with zod's parsing API. */
export type InputSchema = z.ZodType<unknown, unknown>;

/** The input of a walker that declares no `input`: any JSON object, keys kept as sent. */
export const anyObjectInput = z.looseObject({});
export type AnyObjectInput = typeof anyObjectInput;

export interface WalkerSpec<S extends InputSchema = AnyObjectInput> {
  /** Defaults to the module's file name without extension. */
  name?: string;
  /** Omitted: any JSON object is accepted (an array or a scalar body is a 422). */
  input?: S;
  /** Require an authenticated caller (default true, as in jac-cloud). */
  auth?: boolean;
  /** Where the walker may be triggered (default `['post']`, as jac-cloud's `__specs__`). */
  methods?: readonly WalkerMethod[];
  description?: string;
  /** A returned value other than `undefined` is appended to the reports. */
  run(ctx: WalkerContext, input: z.output<S>): unknown;
}

const brand: unique symbol = Symbol.for('walker-hub.walker');

export interface WalkerDefinition<S extends InputSchema = InputSchema> extends WalkerSpec<S> {
  readonly [brand]: true;
}

export function defineWalker<S extends InputSchema = AnyObjectInput>(spec: WalkerSpec<S>): WalkerDefinition<S> {
  return Object.freeze({ ...spec, [brand]: true as const });
}

export function isWalkerDefinition(value: unknown): value is WalkerDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** Throw from `run` to answer the caller with a 4xx status and this message (no stack is sent). */
export function walkerError(status: number, message: string, issues?: Issue[]): HubError {
  const safe = Number.isInteger(status) && status >= 400 && status <= 499 ? status : 400;
  return new HubError('walker_failed', message, { status: safe, ...(issues ? { issues } : {}) });
}
