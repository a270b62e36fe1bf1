/**
 * The wire protocol: the single source of truth. Every frame type string is spelled here and
 * nowhere else; handlers and encoders derive their types from these schemas.
 *
 * Incoming frames are a zod discriminated union on `type`. Unknown keys are stripped, so clients
 * that send extra fields (as some jac-cloud clients do) keep working.
 *
 * Imports nothing from the server, so a client can use it as it is.
 */
import { z } from 'zod';

/** Upper bound on ids in one target list; keeps one frame from pinning the event loop. */
export const MAX_TARGET_IDS = 1000;
/** Upper bound on any id (client, channel, root) and on `uid`, in characters. */
export const MAX_ID_LENGTH = 256;

export const idSchema = z.string().min(1, 'must not be empty').max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`);
const targets = z
  .array(idSchema)
  .min(1, 'must list at least one id')
  .max(MAX_TARGET_IDS, `must list at most ${MAX_TARGET_IDS} ids`);
const uid = idSchema.optional();
/** A place in a channel's history: the last offset seen and the epoch it belongs to. */
const position = z.strictObject({ offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), epoch: z.string().min(1).max(64) });
/**
 * The `type`s of the frames the hub itself writes (HubFrame below). A client's peer payload may not
 * use one: it is delivered verbatim, so a receiver (the SDK above all) could not tell it from the
 * hub's own `subscribed`, `publication` or `connection` frame and would act on a forgery.
 */
export const HUB_FRAME_TYPES = ['auth', 'items', 'subscription', 'connection', 'walker', 'error', 'pong', 'subscribed', 'unsubscribed', 'ack', 'presence', 'presence_stats', 'join', 'leave', 'publication', 'history'] as const;
const hubFrameTypes: ReadonlySet<string> = new Set(HUB_FRAME_TYPES);
/** Payload delivered verbatim to targets: any JSON value, but it must be present and not pose as a hub frame. */
const payload = z
  .unknown()
  .refine((v) => v !== undefined, 'is required')
  .superRefine((v, ctx) => {
    const type = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
    if (typeof type === 'string' && hubFrameTypes.has(type)) {
      ctx.addIssue({ code: 'custom', path: ['type'], message: `"${type}" is a frame type the hub itself sends; a peer payload may not use it` });
    }
  });

/** Items one `items` frame may create, update or delete at once. */
export const MAX_ITEMS_PER_WRITE = 100;
/** The most items one read returns (`limit` defaults to DEFAULT_ITEMS_LIMIT). */
export const MAX_ITEMS_LIMIT = 1000;
export const DEFAULT_ITEMS_LIMIT = 100;
/** Deepest offset a read may page to. */
export const MAX_ITEMS_OFFSET = 100_000;
/** A list of field names: an array, or one comma-separated string (as Directus accepts both). */
const fieldNames = z.union([z.string().max(2048), z.array(z.string().min(1).max(128)).max(100)]);
/**
 * A collection query, a subset of Directus' (docs/collections.md). Checked here for shape; field
 * names and filter operators are checked against the collection (src/collections/query.ts).
 */
export const itemQuerySchema = z.strictObject({
  filter: z.record(z.string(), z.unknown()).optional(),
  sort: fieldNames.optional(),
  limit: z.number().int().min(1, 'must be at least 1 (reading everything at once is not supported)').max(MAX_ITEMS_LIMIT, `must be at most ${MAX_ITEMS_LIMIT}`).optional(),
  offset: z.number().int().min(0).max(MAX_ITEMS_OFFSET, `must be at most ${MAX_ITEMS_OFFSET}`).optional(),
  fields: fieldNames.optional(),
});
export type ItemQuery = z.infer<typeof itemQuerySchema>;

export const inboundFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('walker'),
    walker: z.string().min(1).max(MAX_ID_LENGTH),
    context: z.record(z.string(), z.unknown()).optional(),
    response: z.boolean().optional(),
    /** Passed to the walker as `ctx.node`, for jac-cloud compatibility. */
    node: z.string().max(MAX_ID_LENGTH).nullable().optional(),
    uid,
  }),
  z.object({ type: z.literal('client'), client_ids: targets, data: payload, uid }),
  z.object({ type: z.literal('channel'), channel_ids: targets, data: payload, uid }),
  z.object({ type: z.literal('user'), root_ids: targets, data: payload, uid }),
  z.object({ type: z.literal('change_user'), token: z.string().max(16 * 1024).nullable().optional(), uid }),
  z.object({ type: z.literal('connection'), uid }),
  z
    .object({
      type: z.literal('subscribe'),
      /** A channel subscription names channels; a data subscription (docs/collections.md) names a `collection` instead. */
      channel_ids: targets.optional(),
      /** Recover history channels from a position the client had: `{C: {offset, epoch}}` (each C also in channel_ids). */
      since: z.record(idSchema, position).optional(),
      collection: idSchema.optional(),
      /** Data subscriptions: which items (`filter`, `fields`; `sort`, `limit`, `offset` shape `init` only). */
      query: itemQuerySchema.optional(),
      /** Data subscriptions: only this kind of change event (all kinds when absent). */
      event: z.enum(['create', 'update', 'delete']).optional(),
      uid,
    })
    .refine((f) => (f.channel_ids === undefined) !== (f.collection === undefined), { message: 'give channel_ids (a channel subscription) or collection (a data subscription), not both', path: ['channel_ids'] })
    .refine((f) => f.collection === undefined || (f.since === undefined), { message: 'since applies to channel subscriptions only', path: ['since'] })
    .refine((f) => f.since === undefined || Object.keys(f.since).every((c) => (f.channel_ids ?? []).includes(c)), { message: 'every channel in since must be in channel_ids', path: ['since'] }),
  /** With channel_ids: leaves channels. Without: ends the data subscription `uid`, or all of the connection's data subscriptions. */
  z.object({ type: z.literal('unsubscribe'), channel_ids: targets.optional(), uid }),
  /** Directus' `auth`: the same as change_user with a token, answered `{"type":"auth","status":"ok"}` or an error frame. */
  z.object({ type: z.literal('auth'), access_token: z.string().min(1).max(16 * 1024), uid }),
  /** CRUD on a collection's items (docs/collections.md). */
  z.object({
    type: z.literal('items'),
    collection: idSchema,
    action: z.enum(['create', 'read', 'update', 'delete']),
    data: z.unknown().optional(),
    id: idSchema.optional(),
    ids: z.array(idSchema).min(1).max(MAX_ITEMS_PER_WRITE).optional(),
    query: itemQuerySchema.optional(),
    uid,
  }),
  z.object({ type: z.literal('ping'), uid }),
  /** Who is in a channel (namespaces with presence; see docs/channels.md). */
  z.object({ type: z.literal('presence'), channel_id: idSchema, uid }),
  z.object({ type: z.literal('presence_stats'), channel_id: idSchema, uid }),
  /** Publications kept for a channel (namespaces with history): the latest `limit`, or those after `since`. */
  z.object({ type: z.literal('history'), channel_id: idSchema, limit: z.number().int().min(1).max(10_000).optional(), since: position.optional(), uid }),
]);

export type InboundFrame = z.infer<typeof inboundFrameSchema>;
export type FrameType = InboundFrame['type'];
export type FrameOf<K extends FrameType> = Extract<InboundFrame, { type: K }>;
export const frameTypes: readonly FrameType[] = inboundFrameSchema.options.map((o) => o.shape.type.value);

/**
 * The `walker` frame checked by hand: the hub's hot path (a zod record parse of `context` alone
 * cost more than the rest of the frame). Accepts exactly what `inboundFrameSchema` accepts for a
 * parsed JSON value (test/unit/protocol-fast.test.ts compares the two) and returns the same
 * output; returns null for anything else, which then goes through zod for its issues (and for a
 * `context` with an own `__proto__` key, which zod strips).
 */
export function walkerFrameFast(value: Record<string, unknown>): FrameOf<'walker'> | null {
  const { walker, context, response, node, uid } = value;
  if (value['type'] !== 'walker' || typeof walker !== 'string' || walker.length < 1 || walker.length > MAX_ID_LENGTH) return null;
  // JSON.parse makes only plain objects, so "an object and not an array" is zod's isPlainObject here.
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context))) return null;
  // JSON.parse makes `"__proto__"` an own key; zod's record parse drops it, so such a frame takes that path.
  if (context !== undefined && Object.hasOwn(context, '__proto__')) return null;
  if (response !== undefined && typeof response !== 'boolean') return null;
  if (node !== undefined && node !== null && (typeof node !== 'string' || node.length > MAX_ID_LENGTH)) return null;
  if (uid !== undefined && (typeof uid !== 'string' || uid.length < 1 || uid.length > MAX_ID_LENGTH)) return null;
  const frame: FrameOf<'walker'> = { type: 'walker', walker };
  // Not copied (zod's record parse would copy it): the object is this frame's own, fresh from
  // JSON.parse, and nothing else holds it. A walker's input schema builds its own output anyway.
  if (context !== undefined) frame.context = context as Record<string, unknown>;
  if (response !== undefined) frame.response = response;
  if (node !== undefined) frame.node = node;
  if (uid !== undefined) frame.uid = uid;
  return frame;
}

// ---------------------------------------------------------------------------------------------
// Outgoing frames. Encoders return the JSON text, so each frame is encoded exactly once.

/** An error as it goes on the wire (the server's catalogue is errors.ts; codes are its keys). */
export interface WireError {
  code: string;
  message: string;
  issues?: Array<{ path: string; message: string }>;
  /** Set on `internal` errors: the same id is in the server log next to the stack. */
  error_id?: string;
}

/** A place in a channel's history. */
export interface HistoryPosition {
  offset: number;
  epoch: string;
}

/** One connection as presence and join/leave frames show it. */
export interface PresenceClient {
  client_id: string;
  root_id: string;
}

export interface ConnectionInfo {
  client_id: string;
  root_id: string;
  channel_id: string;
}

function withUid<T extends object>(frame: T, uid: string | undefined): T & { uid?: string } {
  return uid === undefined ? frame : { ...frame, uid };
}

/** `{"type":"walker","walker":NAME,"status":200,"reports":` per walker name, encoded once (names are few: the loaded walkers). */
const okHeads = new Map<string, string>();
function walkerOkHead(walker: string): string {
  let head = okHeads.get(walker);
  if (head === undefined) {
    head = `{"type":"walker","walker":${JSON.stringify(walker)},"status":200,"reports":`;
    // Bounded all the same, should a caller pass names that are not walkers.
    if (okHeads.size < 10_000) okHeads.set(walker, head);
  }
  return head;
}

export const encode = {
  connection: (data: ConnectionInfo, uid?: string) => JSON.stringify(withUid({ type: 'connection', data }, uid)),
  /**
   * `reports` is the reports array as JSON text, already encoded where the walker produced it, so
   * nothing a walker returned is stringified here (it could throw outside the runner's boundary).
   */
  walkerOk: (walker: string, reports: string, uid?: string) =>
    `${walkerOkHead(walker)}${reports}${uid === undefined ? '' : `,"uid":${JSON.stringify(uid)}`}}`,
  walkerError: (walker: string, status: number, error: WireError, uid?: string) =>
    JSON.stringify(withUid({ type: 'walker', walker, status, error }, uid)),
  error: (error: WireError, uid?: string) => JSON.stringify(withUid({ type: 'error', error }, uid)),
  pong: (uid?: string) => JSON.stringify(withUid({ type: 'pong' }, uid)),
  /** Reply to `subscribe`/`unsubscribe`: every channel the connection is in afterwards. */
  channels: (kind: 'subscribed' | 'unsubscribed', channelIds: string[], uid?: string) =>
    JSON.stringify(withUid({ type: kind, channel_ids: channelIds }, uid)),
  /** `subscribed` with history positions (every history channel joined) and, for channels named in `since`, whether each was recovered. */
  subscribedWithHistory: (channelIds: string[], positions: Record<string, HistoryPosition>, recovered: Record<string, boolean> | null, uid?: string) =>
    JSON.stringify(withUid({ type: 'subscribed', channel_ids: channelIds, positions, ...(recovered === null ? {} : { recovered }) }, uid)),
  /** Reply to `history`: `publications` is a JSON array text of `{"offset","data"}`, built where the data's text is kept. */
  history: (channelId: string, position: HistoryPosition, publications: string, uid?: string) =>
    `{"type":"history","channel_id":${JSON.stringify(channelId)},"offset":${position.offset},"epoch":${JSON.stringify(position.epoch)},"publications":${publications}${uid === undefined ? '' : `,"uid":${JSON.stringify(uid)}`}}`,
  /** Acknowledges a peer frame that carried a `uid` (peer frames otherwise have no reply). */
  ack: (uid: string) => JSON.stringify({ type: 'ack', uid }),
  presence: (channelId: string, clients: readonly PresenceClient[], uid?: string) =>
    JSON.stringify(withUid({ type: 'presence', channel_id: channelId, clients }, uid)),
  presenceStats: (channelId: string, numClients: number, numUsers: number, uid?: string) =>
    JSON.stringify(withUid({ type: 'presence_stats', channel_id: channelId, num_clients: numClients, num_users: numUsers }, uid)),
  /** Sent to a channel's members (namespaces with `join_leave`) when a connection enters or leaves it. */
  joinLeave: (kind: 'join' | 'leave', channelId: string, client: PresenceClient) => JSON.stringify({ type: kind, channel_id: channelId, client }),
  /** A notification: the payload exactly as given, nothing wrapped around it. */
  payload: (data: unknown) => JSON.stringify(data),
  /** Reply to `auth`. */
  authOk: (uid?: string) => JSON.stringify(withUid({ type: 'auth', status: 'ok' }, uid)),
  /** Reply to `items`: `data` is the JSON text of the items (an array, or one item for a single-item action). */
  items: (data: string, uid?: string) => `{"type":"items","data":${data}${uid === undefined ? '' : `,"uid":${JSON.stringify(uid)}`}}`,
  /** A data subscription's `init` or change event: `data` is the JSON text of an array (items; ids for `delete`). */
  subscription: (event: SubscriptionEvent, data: string, uid?: string) =>
    `{"type":"subscription","event":"${event}","data":${data}${uid === undefined ? '' : `,"uid":${JSON.stringify(uid)}`}}`,
  /** Reply to an `unsubscribe` of data subscriptions. */
  unsubscribedData: (uid?: string) => JSON.stringify(withUid({ type: 'subscription', event: 'unsubscribe' }, uid)),
};

export type SubscriptionEvent = 'init' | 'create' | 'update' | 'delete';

/** Best-effort read of `uid` from a frame that failed validation, so its error can still carry it. */
export function salvageUid(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const uidValue = (value as { uid?: unknown }).uid;
  return typeof uidValue === 'string' && uidValue.length <= MAX_ID_LENGTH ? uidValue : undefined;
}

// ---------------------------------------------------------------------------------------------
// Outgoing frames as types, for clients (src/client/ imports these with `import type`, so no zod
// reaches a browser bundle). Each mirrors an encoder above.

export type ConnectionFrame = { type: 'connection'; data: ConnectionInfo; uid?: string };
export type WalkerReplyFrame =
  | { type: 'walker'; walker: string; status: 200; reports: unknown[]; uid?: string }
  | { type: 'walker'; walker: string; status: number; error: WireError; uid?: string };
export type ErrorFrame = { type: 'error'; error: WireError; uid?: string };
export type PongFrame = { type: 'pong'; uid?: string };
export type ChannelsFrame = {
  type: 'subscribed' | 'unsubscribed';
  channel_ids: string[];
  /** History channels joined: where each is now. */
  positions?: Record<string, HistoryPosition>;
  /** For each channel named in `since`: whether exactly the missed publications follow. */
  recovered?: Record<string, boolean>;
  uid?: string;
};
export type PublicationFrame = { type: 'publication'; channel_id: string; offset: number; epoch: string; data: unknown };
export type HistoryFrame = { type: 'history'; channel_id: string; offset: number; epoch: string; publications: Array<{ offset: number; data: unknown }>; uid?: string };
export type AckFrame = { type: 'ack'; uid: string };
export type PresenceFrame = { type: 'presence'; channel_id: string; clients: PresenceClient[]; uid?: string };
export type PresenceStatsFrame = { type: 'presence_stats'; channel_id: string; num_clients: number; num_users: number; uid?: string };
export type JoinLeaveFrame = { type: 'join' | 'leave'; channel_id: string; client: PresenceClient };
export type AuthFrame = { type: 'auth'; status: 'ok'; uid?: string };
export type ItemsFrame = { type: 'items'; data: unknown; uid?: string };
export type SubscriptionFrame =
  | { type: 'subscription'; event: SubscriptionEvent; data: unknown[]; uid?: string }
  | { type: 'subscription'; event: 'unsubscribe'; uid?: string };
/** Every frame the hub itself writes (notifications are whatever their sender put in `data`). */
export type HubFrame = AuthFrame | ItemsFrame | SubscriptionFrame | ConnectionFrame | WalkerReplyFrame | ErrorFrame | PongFrame | ChannelsFrame | AckFrame | PresenceFrame | PresenceStatsFrame | JoinLeaveFrame | PublicationFrame | HistoryFrame;
// HUB_FRAME_TYPES names exactly the types of HubFrame (a compile error when one is added to either alone).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const hubFrameTypesComplete: Same<HubFrame['type'], (typeof HUB_FRAME_TYPES)[number]> = true;
void hubFrameTypesComplete;
