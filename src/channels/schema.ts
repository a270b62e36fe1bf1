/**
 * The channels file (`--channels FILE`): namespaces and their options. A channel's namespace is the
 * part of its name before the first `:` (`chat:room-1` is in `chat`); a name without `:` is in the
 * default namespace, configured by `default` (today's behaviour when absent).
 */
import { z } from 'zod';

/** Who may do something on a namespace's channels. `subscribers`: connections in the channel. */
const subscribeAccess = z.enum(['public', 'authenticated', 'none']);
const publishAccess = z.enum(['public', 'authenticated', 'subscribers', 'none']);
const presenceAccess = z.enum(['public', 'authenticated', 'subscribers', 'none']);

export const NAMESPACE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export const namespaceOptionsSchema = z.strictObject({
  /** Who may join with a `subscribe` frame or `?channel_id=`; `none`: only the server joins (walkers, push API). */
  subscribe: subscribeAccess.default('public'),
  /** Who may send `channel` frames to it; unset: the hub's `peerEvents` rule, as without a file. */
  publish: publishAccess.optional(),
  /** Presence on: `true` (members may ask) or who may ask. */
  presence: z.union([z.boolean(), presenceAccess]).default(false),
  /** Members get `join` / `leave` frames as connections enter and leave. */
  join_leave: z.boolean().default(false),
  /** A walker that must allow each subscribe (`{channel_id}` and the connection's ctx; returning false or throwing denies). */
  subscribe_walker: z.string().min(1).max(128).optional(),
  /** `ns:#root1,root2` may be joined only by the listed roots. */
  user_limited: z.boolean().default(false),
  /** Publications kept per channel for recovery and `history` (0: none). Needs `history_ttl`. */
  history_size: z.number().int().min(0).max(10_000).default(0),
  /** Seconds a publication is kept (0: none). Needs `history_size`. */
  history_ttl: z.number().int().min(0).max(30 * 24 * 3600).default(0),
  /** Who may read history with a `history` frame. */
  history: presenceAccess.default('subscribers'),
  /** The most publications one recovery replays; a larger gap is `recovered: false`. */
  max_recovery: z.number().int().min(1).max(10_000).default(300),
}).superRefine((o, ctx) => {
  if ((o.history_size > 0) !== (o.history_ttl > 0)) ctx.addIssue({ code: 'custom', path: ['history_size'], message: 'history_size and history_ttl are set together (both > 0 keeps history)' });
});

export const channelsFileSchema = z.strictObject({
  /** Options of channels without a namespace (names without `:`). */
  default: namespaceOptionsSchema.optional(),
  namespaces: z
    .record(z.string().regex(NAMESPACE_NAME, 'namespace names are 1-64 of A-Z a-z 0-9 _ . - (no ":")'), namespaceOptionsSchema)
    .default({}),
  /** Channels whose namespace is not listed: `allow` (as the default namespace) or `deny`. */
  unknown_namespaces: z.enum(['allow', 'deny']).default('allow'),
});

export type NamespaceOptions = z.output<typeof namespaceOptionsSchema>;
export type ChannelsFile = z.output<typeof channelsFileSchema>;
export type ChannelsFileInput = z.input<typeof channelsFileSchema>;
export type PresenceAccess = z.output<typeof presenceAccess>;
