/**
 * The socket-free core: sessions, registries and frame dispatch. The transport calls `open`,
 * `message` and `close`; everything the hub sends goes through the `Connection` it was given.
 */
import { nanoid } from 'nanoid';
import type { Authenticator } from '../auth/authenticator.js';
import { publicIdentity, type Identity } from '../auth/identity.js';
import { BROADCAST_ID, type Broker } from '../broker/broker.js';
import { systemClock, type Clock } from '../clock.js';
import { topics, type Connection, type Publisher } from './connection.js';
import { closeCodes, HubError, toIssues } from '../errors.js';
import { createLocalDelivery, localReach } from './delivery.js';
import { noMetrics, type Metrics } from '../metrics/sinks.js';
import type { TargetKind } from '../broker/broker.js';
import { FrameBudget, type FrameRateOptions } from './frame-rate.js';
import { allLive, Gate } from './hold.js';
import { createHandlers, type Handler, type HandlerTable, type PeerPolicy } from './handlers.js';
import type { Logger } from '../log.js';
import { encode, frameTypes, inboundFrameSchema, MAX_TARGET_IDS, salvageUid, walkerFrameFast, type FrameType, type InboundFrame } from '../protocol.js';
import { Registry, type RegistryCounts } from './registry.js';
import { DEFAULT_MAX_INFLIGHT_CHARS, DEFAULT_REPLY_LINE, ReplyLine, type ReplyLineLimits } from './reply-line.js';
import type { Session } from './session.js';
import { ChannelPolicy } from '../channels/policy.js';
import { NO_CHANNELS_FILE } from '../channels/load.js';
import { Membership } from '../channels/membership.js';
import { subscribeRefusal } from '../channels/subscribe-walker.js';
import { LocalPresence, type Presence } from '../presence/presence.js';
import type { PresenceClient } from '../protocol.js';
import type { CallerChannels } from '../walkers/context.js';
import type { ServerJoins } from '../channels/server-joins.js';
import type { HistoryStore } from '../history/history.js';
import type { RedisHistory } from '../history/redis.js';
import type { HistoryStreams } from '../history/streams.js';
import type { WalkerRunner } from '../walkers/runner.js';
import { nativeProfile } from '../profiles/native.js';
import type { WireProfile } from '../profiles/profile.js';
import type { CollectionFrames } from '../collections/frames.js';

export interface HubOptions {
  readonly peerEvents: PeerPolicy;
  /** How replies and errors are encoded, and the change_user token rules; native when absent. */
  readonly profile?: WireProfile;
  readonly maxInflightWalkers: number;
  /** Characters of walker frames whose walkers run asynchronously at once, per connection (one call is always allowed). */
  readonly maxInflightChars?: number;
  /** The per-connection budget of replies waiting their turn (see reply-line.ts); the defaults when absent. */
  readonly replyLine?: ReplyLineLimits;
  /** Namespace rules of channels; today's behaviour (no file) when absent. */
  readonly channels?: ChannelPolicy;
  /** Per-connection frame budget; unlimited when absent or `perSec` is 0. */
  readonly frameRate?: FrameRateOptions;
}

export interface HubDeps {
  readonly options: HubOptions;
  readonly authenticator: Authenticator;
  readonly runner: WalkerRunner;
  readonly broker: Broker;
  readonly log: Logger;
  /** Times token expiry; the real clock when absent. */
  readonly clock?: Clock;
  /** Monotonic ms for the frame budget; performance.now() unless a test passes a fake clock. */
  readonly now?: () => number;
  /** Channel history kept in this process (one node; namespaces that keep it); none when absent. */
  readonly history?: HistoryStore;
  /** Channel history kept in Redis (a cluster), with this node's view of each channel's stream. */
  readonly sharedHistory?: { readonly store: RedisHistory; readonly streams: HistoryStreams };
  /** Who is in a channel across nodes; this node's registry when absent (one node). */
  readonly presence?: Presence;
  /** Frames in, error frames, frame-budget refusals; nothing is counted when absent. */
  readonly metrics?: Pick<Metrics, 'frameIn' | 'errorFrame' | 'rateLimited'>;
  /** `items` frames and data subscriptions; none when absent (no collections). */
  readonly collections?: CollectionFrames;
}

/** Channels one connection may sit in at once. */
export const MAX_CHANNELS_PER_CONNECTION = MAX_TARGET_IDS;

const knownTypes = new Set<string>(frameTypes);

export class Hub {
  readonly registry: Registry<Session>;
  private readonly handlers: HandlerTable;
  private readonly log: Logger;
  private readonly clock: Clock;

  private readonly now: () => number;
  /** `now` is performance.now(), the runner's clock too, so a frame's arrival time can start its walker's duration. */
  private readonly realClock: boolean;
  private readonly frameRate: FrameRateOptions | null;
  private readonly rateLimitedFrame: string;
  private readonly metrics: Pick<Metrics, 'frameIn' | 'errorFrame' | 'rateLimited'>;
  private readonly profile: WireProfile;
  private readonly line: ReplyLine;
  readonly channels: ChannelPolicy;
  readonly presence: Presence;
  private readonly membership: Membership;
  /** Holds a socket's frames while its reply waits for the broker (hold.ts). */
  private readonly gate = new Gate((session, text, at) => this.dispatch(session, text, at));

  constructor(private readonly deps: HubDeps) {
    this.log = deps.log;
    this.clock = deps.clock ?? systemClock;
    const broker = deps.broker;
    // Routing by target: the broker hears the first / last local member of each target, and the
    // broadcast topic is held while this node has any connection at all.
    let clients = 0;
    this.registry = new Registry<Session>((kind, id, present) => {
      if (present) broker.track(kind, id);
      else broker.untrack(kind, id);
      if (kind !== 'clients') return;
      clients += present ? 1 : -1;
      if (present && clients === 1) broker.track('broadcast', BROADCAST_ID);
      else if (!present && clients === 0) broker.untrack('broadcast', BROADCAST_ID);
    });
    this.now = deps.now ?? (() => performance.now());
    this.realClock = deps.now === undefined;
    this.metrics = deps.metrics ?? noMetrics;
    this.profile = deps.options.profile ?? nativeProfile;
    const rate = deps.options.frameRate;
    this.frameRate = rate && rate.perSec > 0 ? rate : null;
    // Encoded once: a refused frame is answered without parsing it (so without its uid) or allocating.
    this.rateLimitedFrame = this.profile.frameError(new HubError('rate_limited', `Over ${rate?.perSec ?? 0} frames/s (burst ${rate?.burst ?? 0}); frame dropped`), undefined);
    this.channels = deps.options.channels ?? new ChannelPolicy(NO_CHANNELS_FILE);
    this.presence = deps.presence ?? new LocalPresence((channel) => this.localMembers(channel));
    this.membership = new Membership(this.channels, this.presence, (channel, frame) => broker.publish({ kind: 'channels', ids: [channel], frame, system: true }));
    this.line = new ReplyLine(deps.options.replyLine ?? DEFAULT_REPLY_LINE, (session, frame) => session.conn?.send(frame));
    this.handlers = createHandlers({
      authenticator: deps.authenticator,
      runner: deps.runner,
      broker: deps.broker,
      peerEvents: deps.options.peerEvents,
      channels: this.channels,
      history: deps.history ?? null,
      sharedHistory: deps.sharedHistory ?? null,
      profile: this.profile,
      maxInflightWalkers: deps.options.maxInflightWalkers,
      maxInflightChars: deps.options.maxInflightChars ?? DEFAULT_MAX_INFLIGHT_CHARS,
      line: this.line,
      send: (session, frame) => session.conn?.send(frame),
      sendConnectionFrame: (session, uid) => this.sendConnectionFrame(session, uid),
      connectionFrame: (session, uid) => this.connectionFrame(session, uid),
      replyWhenLive: (session, kind, ids, reply, after) => this.gate.reply(session, this.deps.broker.whenLive(kind, ids), reply, after),
      setIdentity: (session, identity) => this.setIdentity(session, identity),
      join: (session, ids) => this.join(session, ids),
      leave: (session, ids) => this.leave(session, ids),
      entered: (session, ids) => this.membership.entered(presenceClient(session), ids),
      presence: (channelId) => this.presence.list(channelId),
      callerChannels: (session) => this.callerChannels(session),
      wait: (session, work, then) => this.gate.after(session, work, then),
      isMember: (session, id) => this.registry.get(session.clientId)?.channels.has(id) ?? false,
      errorSent: (code) => this.metrics.errorFrame(code),
      collections: deps.collections ?? null,
    });
  }

  /** Starts delivering broker traffic to this node's sockets via `publisher`. */
  async start(publisher: Publisher): Promise<void> {
    await this.deps.broker.start(createLocalDelivery(this.registry, publisher));
  }

  /** `ip`: the client address (behind a trusted proxy, the forwarded one), put on the session's log lines. */
  newSession(identity: Identity = publicIdentity, channelId?: string, ip?: string): Session {
    const clientId = nanoid();
    const frames = this.frameRate ? new FrameBudget(this.frameRate, this.now()) : null;
    return { clientId, channelId: channelId ?? nanoid(), channelNamed: channelId !== undefined, identity, conn: null, inflight: 0, inflightChars: 0, admission: null, expiry: null, gone: null, caller: null, replies: null, frames, held: null, log: this.log.child(ip === undefined ? { client_id: clientId } : { client_id: clientId, ip }) };
  }

  open(session: Session, conn: Connection): void {
    session.conn = conn;
    const admission = session.admission;
    // Not in its `?channel_id=` channel until an asynchronous subscribe walker has allowed it.
    this.registry.add(session.clientId, session.identity.root_id, session.channelId, session, admission === null);
    if (admission === null) conn.subscribe(topics.channel(session.channelId));
    conn.subscribe(topics.broadcast);
    this.scheduleExpiry(session);
    if (admission === null) return this.greet(session);
    session.admission = null;
    this.gate.after(session, admission, (refused) => {
      if (refused !== null) return session.conn?.end(closeCodes.forbiddenChannel, refused.message.slice(0, 120));
      this.registry.join(session.clientId, session.channelId);
      session.conn?.subscribe(topics.channel(session.channelId));
      this.greet(session);
    });
  }

  /** The connection frame, once the socket is reachable as client, user, channel and by broadcast (live in the broker). */
  private greet(session: Session): void {
    const broker = this.deps.broker;
    const live = allLive([
      broker.whenLive('clients', [session.clientId]),
      broker.whenLive('users', [session.identity.root_id]),
      broker.whenLive('channels', [session.channelId]),
      broker.whenLive('broadcast', [BROADCAST_ID]),
    ]);
    this.gate.reply(session, live, this.connectionFrame(session), session.channelNamed ? () => this.membership.entered(presenceClient(session), [session.channelId]) : undefined);
  }

  close(session: Session): void {
    session.conn = null;
    if (session.expiry !== null) this.clock.clearTimeout(session.expiry);
    session.gone?.abort(new Error('socket closed'));
    // Replies still waiting can no longer be sent; walkers that finish later find no line.
    this.line.drop(session);
    this.deps.collections?.closed(session);
    const record = this.registry.remove(session.clientId);
    if (record !== undefined) this.membership.left(presenceClient(session), announced(session, record.channels.keys()));
  }

  /** One incoming frame; `text` is null for a binary frame. Never throws. */
  message(session: Session, text: string | null): void {
    if (session.conn === null) return;
    // One clock read per frame, shared by the frame budget and the walker's duration metric.
    let at: number | undefined;
    if (session.frames !== null) {
      const now = this.now();
      if (this.realClock) at = now;
      const verdict = session.frames.take(now);
      if (verdict === 'refuse') {
        this.metrics.rateLimited('frame');
        this.metrics.errorFrame('rate_limited');
        return session.conn.send(this.rateLimitedFrame);
      }
      if (verdict === 'close') {
        this.metrics.rateLimited('frame');
        return session.conn.end(closeCodes.rateLimited, 'frame rate limit exceeded');
      }
    }
    if (session.held !== null) return this.gate.hold(session, text, at);
    this.dispatch(session, text, at);
  }

  /** One frame past the frame budget: now, or once a reply this socket waits for has gone out (hold.ts). */
  private dispatch(session: Session, text: string | null, at: number | undefined): void {
    if (text === null) return this.sendError(session, new HubError('binary_frame'));
    const frame = this.parse(session, text);
    if (frame === null) return this.metrics.frameIn('invalid');
    this.metrics.frameIn(frame.type);
    try {
      (this.handlers[frame.type] as Handler<FrameType>)(session, frame, at, text.length);
    } catch (err) {
      this.sendError(session, this.asHubError(session, err, frame.type), frame.uid);
    }
  }

  /**
   * Joins and leaves a walker makes for the connection that called it: the server decides, so no
   * namespace rule applies; a join resolves once live, then is announced (presence, join frames).
   */
  private callerChannels(session: Session): CallerChannels {
    return {
      subscribe: async (ids) => {
        const { all, fresh } = this.join(session, ids);
        const live = this.deps.broker.whenLive('channels', ids);
        if (live !== null) await live;
        if (fresh.length > 0 && session.conn !== null) this.membership.entered(presenceClient(session), fresh);
        return all;
      },
      unsubscribe: (ids) => this.leave(session, ids),
    };
  }

  /**
   * Joins and leaves the server makes for named connections on this node (the push API): no
   * namespace rule applies. Each connection changed gets `unsubscribed` / `subscribed` (no uid),
   * the latter once live. Returns the connections changed.
   */
  applyServerJoins(change: ServerJoins): number {
    const sessions = new Set<Session>();
    for (const rootId of change.users) for (const id of this.registry.clientsOfUser(rootId) ?? []) this.addSession(sessions, id);
    for (const id of change.clients) this.addSession(sessions, id);
    for (const session of sessions) {
      if (change.unsubscribe.length > 0) session.conn?.send(encode.channels('unsubscribed', this.leave(session, change.unsubscribe)));
      if (change.subscribe.length === 0) continue;
      let joined: { all: string[]; fresh: string[] };
      try {
        joined = this.join(session, change.subscribe);
      } catch (err) {
        // Over the channels one connection may be in: it is told, as a client asking would be.
        if (err instanceof HubError) this.sendError(session, err);
        continue;
      }
      const { all, fresh } = joined;
      this.gate.reply(session, this.deps.broker.whenLive('channels', change.subscribe), encode.channels('subscribed', all), fresh.length > 0 ? () => this.membership.entered(presenceClient(session), fresh) : undefined);
    }
    return sessions.size;
  }

  private addSession(sessions: Set<Session>, clientId: string): void {
    const session = this.registry.get(clientId)?.handle;
    if (session !== undefined && session.conn !== null) sessions.add(session);
  }

  /** This node's members of `channel`, as presence shows them. */
  localMembers(channel: string): PresenceClient[] {
    const out: PresenceClient[] = [];
    for (const clientId of this.registry.clientsInChannel(channel) ?? []) {
      const record = this.registry.get(clientId);
      if (record !== undefined) out.push({ client_id: clientId, root_id: record.rootId });
    }
    return out;
  }

  /** This node's members of every channel presence tracks (for a shared presence store's refresh). */
  *presenceChannels(): Generator<[string, PresenceClient[]]> {
    for (const [channel] of this.registry.channelMembers()) {
      if (this.membership.tracked(channel)) yield [channel, this.localMembers(channel)];
    }
  }

  /** Characters of replies waiting behind slower walkers, over every connection (for metrics). */
  replyBacklogChars(): number {
    return this.line.waitingChars;
  }

  /**
   * At the upgrade of a connection with `?channel_id=`: the channel's namespace rules, as for a
   * `subscribe` frame. A refusal (returned) is HTTP 403. A subscribe walker that answers at once
   * decides here too; one that answers later decides after the upgrade, before the `connection`
   * frame: the socket is not in the channel until it allows, and is closed with 4403 if it refuses.
   */
  admitConnectChannel(session: Session): HubError | null {
    const verdict = this.channels.canSubscribe(session.identity, session.channelId);
    if (!verdict.ok) return verdict.error;
    if (verdict.walker === undefined) return null;
    const walker = this.deps.runner.get(verdict.walker);
    if (walker === undefined) return new HubError('forbidden', `Channel "${session.channelId.slice(0, 128)}": its subscribe walker is not loaded`);
    const ask = { channel: session.channelId, walker: walker.name };
    const call = { via: 'websocket' as const, identity: session.identity, clientId: session.clientId, channelId: session.channelId, node: null, log: session.log };
    const outcome = this.deps.runner.run(walker, call, { channel_id: session.channelId });
    if (!(outcome instanceof Promise)) return subscribeRefusal(ask, outcome);
    session.admission = outcome.then((done) => subscribeRefusal(ask, done));
    return null;
  }

  counts(): RegistryCounts {
    return this.registry.counts();
  }

  /** Closes every socket with `code` (default 1001, going away; a drain uses 1012, restarting). */
  closeAll(reason: string, code: number = closeCodes.goingAway): void {
    for (const record of [...this.registry.all()]) record.handle.conn?.end(code, reason);
  }

  /** Open connections by whether they carry a user's token; walks the registry (for scrapes, not hot paths). */
  connectionsByAuth(): { authenticated: number; public: number } {
    let authenticated = 0;
    let total = 0;
    for (const record of this.registry.all()) {
      total++;
      if (record.handle.identity.user_id !== null) authenticated++;
    }
    return { authenticated, public: total - authenticated };
  }

  /** How many connections on this node a delivery to `ids` of `kind` would reach now. */
  reach(kind: TargetKind, ids: readonly string[]): number {
    return localReach(this.registry, kind, ids);
  }

  private parse(session: Session, text: string): InboundFrame | null {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.sendError(session, new HubError('invalid_json'));
      return null;
    }
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    // The walker frame, checked by hand first: the hot path.
    if (type === 'walker') {
      const fast = walkerFrameFast(value as Record<string, unknown>);
      if (fast !== null) return fast;
    }
    if (typeof type !== 'string' || !knownTypes.has(type)) {
      const shown = typeof type === 'string' ? `"${type.slice(0, 64)}"` : 'missing';
      this.sendError(session, new HubError('unknown_type', `Unknown frame type (${shown}); expected one of ${frameTypes.join(', ')}`), salvageUid(value));
      return null;
    }
    const parsed = inboundFrameSchema.safeParse(value);
    if (!parsed.success) {
      const err = new HubError('invalid_frame', `Invalid "${type}" frame`, { issues: toIssues(parsed.error.issues) });
      const uid = salvageUid(value);
      // A malformed walker frame without uid is answered in its place in line, like any reply to one.
      if (type === 'walker' && uid === undefined) {
        this.metrics.errorFrame(err.code);
        this.line.reply(session, this.line.place(session, undefined, true), this.profile.frameError(err, undefined));
      } else this.sendError(session, err, uid);
      return null;
    }
    return parsed.data;
  }

  private sendError(session: Session, err: HubError, uid?: string): void {
    this.metrics.errorFrame(err.code);
    session.conn?.send(this.profile.frameError(err, uid));
  }

  private asHubError(session: Session, err: unknown, type: string): HubError {
    if (err instanceof HubError) return err;
    const errorId = nanoid(12);
    session.log.error('frame handler failed', { type, error_id: errorId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    return new HubError('internal', undefined, { errorId });
  }

  private sendConnectionFrame(session: Session, uid?: string): void {
    session.conn?.send(this.connectionFrame(session, uid));
  }

  private connectionFrame(session: Session, uid?: string): string {
    return encode.connection({ client_id: session.clientId, root_id: session.identity.root_id, channel_id: session.channelId }, uid);
  }

  /**
   * Downgrades to public, each with a fresh `connection` frame, every socket whose identity
   * `revoked` matches (after a logout, here or on another node).
   */
  revokeWhere(revoked: (identity: Identity) => boolean): number {
    let count = 0;
    for (const record of [...this.registry.all()]) {
      const session = record.handle;
      if (session.identity.user_id === null || !revoked(session.identity)) continue;
      this.downgrade(session);
      count++;
    }
    return count;
  }

  private downgrade(session: Session): void {
    this.setIdentity(session, publicIdentity);
    this.sendConnectionFrame(session);
  }

  /** Tokens expire while sockets stay open: at that moment the socket becomes public. */
  private scheduleExpiry(session: Session): void {
    if (session.expiry !== null) this.clock.clearTimeout(session.expiry);
    session.expiry = null;
    const expiresAt = session.identity.expiresAt;
    if (expiresAt === null) return;
    // setTimeout holds at most 2^31-1 ms (~24.8 days); longer tokens re-arm when that fires.
    const delay = Math.min(Math.max(expiresAt - this.clock.now(), 0), 2 ** 31 - 1);
    session.expiry = this.clock.setTimeout(() => {
      session.expiry = null;
      if (session.conn === null) return;
      if (this.clock.now() >= expiresAt) this.downgrade(session);
      else this.scheduleExpiry(session);
    }, delay);
  }

  private setIdentity(session: Session, identity: Identity): void {
    const conn = session.conn;
    const previous = session.identity.root_id;
    session.identity = identity;
    if (conn !== null) this.scheduleExpiry(session);
    if (conn === null || previous === identity.root_id) return;
    this.registry.setUser(session.clientId, identity.root_id);
    const record = this.registry.get(session.clientId);
    if (record !== undefined) this.membership.changedUser(presenceClient(session), announced(session, record.channels.keys()));
  }

  /** Joins the channels; `fresh`: those it was not in before (the caller announces them once it has replied). */
  private join(session: Session, channelIds: readonly string[]): { all: string[]; fresh: string[] } {
    const record = this.registry.get(session.clientId);
    if (!record || session.conn === null) return { all: [], fresh: [] };
    const fresh = [...new Set(channelIds)].filter((id) => !record.channels.has(id));
    if (record.channels.size + fresh.length > MAX_CHANNELS_PER_CONNECTION) {
      throw new HubError('forbidden', `A connection may be in at most ${MAX_CHANNELS_PER_CONNECTION} channels`);
    }
    for (const id of fresh) {
      this.registry.join(session.clientId, id);
      session.conn.subscribe(topics.channel(id));
    }
    return { all: [...record.channels.keys()], fresh };
  }

  private leave(session: Session, channelIds: readonly string[]): string[] {
    const record = this.registry.get(session.clientId);
    if (!record || session.conn === null) return [];
    const gone: string[] = [];
    for (const id of channelIds) {
      if (!this.registry.leave(session.clientId, id)) continue;
      session.conn.unsubscribe(topics.channel(id));
      gone.push(id);
    }
    this.membership.left(presenceClient(session), announced(session, gone));
    return [...record.channels.keys()];
  }
}

function presenceClient(session: Session): PresenceClient {
  return { client_id: session.clientId, root_id: session.identity.root_id };
}

/** The channels whose membership is announced (presence, join/leave): all but a random channel the hub made up. */
function* announced(session: Session, channels: Iterable<string>): Generator<string> {
  for (const channel of channels) if (session.channelNamed || channel !== session.channelId) yield channel;
}
