/**
 * One handler per incoming frame type. The table's type is keyed by FrameType, so a frame type
 * without a handler does not compile.
 */
import { setMaxListeners } from 'node:events';
import type { Authenticator } from '../auth/authenticator.js';
import { isAuthenticated, publicIdentity, type Identity } from '../auth/identity.js';
import type { Broker, TargetKind } from '../broker/broker.js';
import type { ChannelPolicy, PeerPolicy } from '../channels/policy.js';
import { closeCodes, HubError } from '../errors.js';
import { encode, type FrameOf, type FrameType, type PresenceClient } from '../protocol.js';
import type { MaybePromise } from '../maybe.js';
import { statsOf } from '../presence/presence.js';
import type { WireProfile } from '../profiles/profile.js';
import { OVERFLOWED, type ReplyLine } from './reply-line.js';
import type { Session } from './session.js';
import type { WalkerCall, WalkerOutcome, WalkerRunner } from '../walkers/runner.js';
import type { CallerChannels } from '../walkers/context.js';
import { subscribeRefusal } from '../channels/subscribe-walker.js';
import type { HistoryStore } from '../history/history.js';
import { historyReply, historyReplyFrom, subscribeHistory } from '../history/recovery.js';
import type { RedisHistory } from '../history/redis.js';
import { recoverFromStreams } from '../history/stream-recovery.js';
import type { HistoryStreams } from '../history/streams.js';
import { topics } from './connection.js';
import type { CollectionFrames } from '../collections/frames.js';

export type { PeerPolicy } from '../channels/policy.js';

/** What handlers may do to the hub: narrow on purpose. */
export interface HandlerDeps {
  readonly authenticator: Authenticator;
  readonly runner: WalkerRunner;
  readonly broker: Broker;
  readonly peerEvents: PeerPolicy;
  /** Namespace rules: who may join and publish to which channels. */
  readonly channels: ChannelPolicy;
  readonly profile: WireProfile;
  readonly maxInflightWalkers: number;
  /** Characters of walker frames whose asynchronous walkers are still running, per connection; one call is always allowed. */
  readonly maxInflightChars: number;
  /** Where replies to walker frames without `uid` wait their turn. */
  readonly line: ReplyLine;
  send(session: Session, frame: string): void;
  sendConnectionFrame(session: Session, uid?: string): void;
  connectionFrame(session: Session, uid?: string): string;
  /**
   * Sends `reply` once this node's subscriptions to `ids` of `kind` are live (synchronously when
   * they are already); the socket's later frames are held until it has gone out (hold.ts).
   */
  replyWhenLive(session: Session, kind: TargetKind, ids: readonly string[], reply: string, after?: () => void): void;
  setIdentity(session: Session, identity: Identity): void;
  join(session: Session, channelIds: readonly string[]): { all: string[]; fresh: string[] };
  /** Announces (presence, join frames) channels the connection entered; after its reply went out. */
  entered(session: Session, channelIds: readonly string[]): void;
  /** Everyone in a channel, on every node. */
  presence(channelId: string): MaybePromise<PresenceClient[]>;
  leave(session: Session, channelIds: readonly string[]): string[];
  /** Whether the connection is in the channel. */
  isMember(session: Session, channelId: string): boolean;
  /** Channel history kept in this process (one node; namespaces that keep it); null when none does. */
  readonly history: HistoryStore | null;
  /** Channel history kept in Redis (a cluster), and this node's view of each channel's stream; null otherwise. */
  readonly sharedHistory: { readonly store: RedisHistory; readonly streams: HistoryStreams } | null;
  /** Holds the connection's later frames until `work` settles, then runs `then` (hold.ts); `work` never rejects. */
  wait<T>(session: Session, work: Promise<T>, then: (value: T) => void): void;
  /** `ctx.subscribe` / `ctx.unsubscribe` for walkers this connection calls. */
  callerChannels(session: Session): CallerChannels;
  /** Called for each error sent (an `error` frame or a failed `walker` reply), by code. */
  errorSent(code: string): void;
  /** `items` frames and data subscriptions (docs/collections.md); null when no collection is loaded. */
  readonly collections: CollectionFrames | null;
}

/** A `subscribe` frame naming channels (the other kind names a collection). */
type ChannelSubscribe = FrameOf<'subscribe'> & { channel_ids: string[] };
const namesChannels = (frame: FrameOf<'subscribe'>): frame is ChannelSubscribe => frame.channel_ids !== undefined;

/**
 * Handlers are synchronous, so frames of one socket are handled strictly in arrival order. `at`:
 * when the frame arrived (performance.now() ms), if the hub read the clock for it; `chars`: the
 * frame's length as text.
 */
export type Handler<K extends FrameType> = (session: Session, frame: FrameOf<K>, at?: number, chars?: number) => void;
export type HandlerTable = { [K in FrameType]: Handler<K> };

export function createHandlers(deps: HandlerDeps): HandlerTable {
  const { send, profile } = deps;
  const sendError = (session: Session, err: HubError, uid: string | undefined) => {
    deps.errorSent(err.code);
    send(session, profile.frameError(err, uid));
  };

  const { line } = deps;

  /** Runs `act` on the collections, or answers that there are none. */
  const collections = (session: Session, uid: string | undefined, act: (c: CollectionFrames, fail: (err: HubError) => void) => void) => {
    if (deps.collections === null) return sendError(session, new HubError('unknown_collection', 'No collections are loaded on this hub'), uid);
    act(deps.collections, (err) => sendError(session, err, uid));
  };

  /** The socket's walker caller, made again only when its identity changed (so a running walker keeps the one it started with). */
  const callerOf = (session: Session): WalkerCall => {
    const cached = session.caller;
    if (cached !== null && cached.identity === session.identity) return cached;
    if (session.gone === null) {
      session.gone = new AbortController();
      // Each running walker may listen for the socket closing: up to maxInflightWalkers at once is expected, not a leak.
      setMaxListeners(deps.maxInflightWalkers + 10, session.gone.signal);
    }
    const self = cached?.self ?? ((out: string) => send(session, out));
    const channels = cached?.channels ?? deps.callerChannels(session);
    return (session.caller = { via: 'websocket', identity: session.identity, clientId: session.clientId, channelId: session.channelId, node: null, self, signal: session.gone.signal, log: session.log, channels });
  };

  const checkPeerPolicy = (session: Session): HubError | null => {
    if (deps.peerEvents === 'off') return new HubError('forbidden', 'Peer events are disabled on this hub');
    if (deps.peerEvents === 'authenticated' && !isAuthenticated(session.identity)) {
      return new HubError('forbidden', 'Peer events require an authenticated connection');
    }
    return null;
  };

  /** A channel frame is allowed per channel by its namespace's `publish` rule, else by `peerEvents`. */
  const checkPublish = (session: Session, channelIds: readonly string[]): HubError | null => {
    let peerChecked = false;
    for (const id of channelIds) {
      const verdict = deps.channels.canPublish(session.identity, id, deps.isMember(session, id));
      if (verdict !== undefined) {
        if (verdict !== null) return verdict;
      } else if (!peerChecked) {
        const denied = checkPeerPolicy(session);
        if (denied) return denied;
        peerChecked = true;
      }
    }
    return null;
  };

  /** Checks who may ask, then answers from presence (at once on one node, after Redis in a cluster). */
  const answerPresence = (session: Session, frame: { channel_id: string; uid?: string | undefined }, reply: (clients: PresenceClient[]) => string) => {
    const denied = deps.channels.canSeePresence(session.identity, frame.channel_id, deps.isMember(session, frame.channel_id));
    if (denied) return sendError(session, denied, frame.uid);
    const clients = deps.presence(frame.channel_id);
    if (!(clients instanceof Promise)) return send(session, reply(clients));
    clients.then(
      (list) => send(session, reply(list)),
      () => sendError(session, new HubError('presence_unavailable'), frame.uid),
    );
  };

  const peer = (session: Session, kind: 'clients' | 'channels' | 'users', ids: string[], frame: { data: unknown; uid?: string | undefined }) => {
    const denied = kind === 'channels' ? checkPublish(session, ids) : checkPeerPolicy(session);
    if (denied) return sendError(session, denied, frame.uid);
    deps.broker.publish({ kind, ids, frame: encode.payload(frame.data) });
    if (frame.uid !== undefined) send(session, encode.ack(frame.uid));
  };

  /** Releases the walker's in-flight count (before sending, so a failing send cannot keep it held) and replies. */
  const finish = (session: Session, name: string, frame: FrameOf<'walker'>, ticket: number, chars: number, done: WalkerOutcome) => {
    session.inflight--;
    session.inflightChars -= chars;
    // Failures are always reported; a success only when the caller asked for a response.
    if (!done.ok) {
      deps.errorSent(done.error.code);
      line.reply(session, ticket, profile.walkerError(name, done.error, frame.uid));
    } else line.reply(session, ticket, frame.response ? profile.walkerOk(name, done.reports, frame.uid) : null);
  };

  /** A subscribe whose history channels recover from Redis (stream-recovery.ts); false when none of them keeps history. */
  const joinFromStreams = (session: Session, frame: ChannelSubscribe, all: string[], fresh: string[]): boolean => {
    const shared = deps.sharedHistory as NonNullable<HandlerDeps['sharedHistory']>;
    const kept = [...new Set(frame.channel_ids)].filter((id) => deps.channels.historyOf(id) !== null);
    if (kept.length === 0) return false;
    // Out of the topics until the merge: what arrives meanwhile is buffered for this socket.
    for (const id of kept) session.conn?.unsubscribe(topics.channel(id));
    const live = deps.broker.whenLive('channels', frame.channel_ids);
    deps.wait(session, recoverFromStreams(shared.store, shared.streams, deps.channels, kept, frame.channel_ids, frame.since, live), (result) => {
      if (result.overflowed) {
        session.log.warn('socket closed: too many live publications while its recovery read history');
        session.conn?.end(closeCodes.recoveryBacklog, 'too many publications arrived while history was read; reconnect and recover');
        return;
      }
      send(session, encode.subscribedWithHistory(all, result.positions, result.recovered, frame.uid));
      for (const publication of result.replay) send(session, publication);
      for (const id of kept) if (deps.isMember(session, id)) session.conn?.subscribe(topics.channel(id));
      if (fresh.length > 0) deps.entered(session, fresh);
    });
    return true;
  };

  return {
    walker(session, frame, at, chars = 0) {
      // A full line closes the socket before anything runs: its reply could not be sent in order.
      if (!line.admit(session, frame.uid)) return;
      const walker = deps.runner.get(frame.walker);
      if (!walker) {
        const err = new HubError('unknown_walker', `Unknown walker "${frame.walker}"`);
        deps.errorSent(err.code);
        return line.reply(session, line.place(session, frame.uid, true), profile.unknownWalker(frame.walker, err, frame.uid));
      }
      if (session.inflight >= deps.maxInflightWalkers || (session.inflight > 0 && session.inflightChars + chars > deps.maxInflightChars)) {
        const err =
          session.inflight >= deps.maxInflightWalkers
            ? new HubError('too_many_requests', `At most ${deps.maxInflightWalkers} walkers may run at once per connection`)
            : new HubError('too_many_requests', `Walker frames of at most ${deps.maxInflightChars} characters in all may be running at once per connection`);
        deps.errorSent(err.code);
        return line.reply(session, line.place(session, frame.uid, true), profile.walkerError(walker.name, err, frame.uid));
      }
      session.inflight++;
      // A slow walker runs detached: later frames are not held up by it (only their replies may be).
      const caller = callerOf(session);
      const node = frame.node ?? null;
      const outcome = deps.runner.run(walker, node === null ? caller : { ...caller, node }, frame.context ?? {}, at);
      // `run` never throws or rejects, so the count is always released. A synchronous outcome is
      // answered without a closure (the hot path); an asynchronous one holds its input meanwhile,
      // so its frame's size counts against the connection's in-flight budget until it finishes.
      if (outcome instanceof Promise) {
        session.inflightChars += chars;
        const ticket = line.place(session, frame.uid, false);
        void outcome.then((done) => finish(session, walker.name, frame, ticket, chars, done));
      } else {
        const ticket = line.place(session, frame.uid, true);
        if (ticket !== OVERFLOWED) finish(session, walker.name, frame, ticket, 0, outcome);
        else session.inflight--;
      }
    },

    client: (session, frame) => peer(session, 'clients', frame.client_ids, frame),
    channel: (session, frame) => peer(session, 'channels', frame.channel_ids, frame),
    user: (session, frame) => peer(session, 'users', frame.root_ids, frame),

    change_user(session, frame) {
      const { token, reportBad } = profile.changeUser(frame.token, frame.uid);
      let identity = publicIdentity;
      if (token !== null) {
        try {
          identity = deps.authenticator.verify(token);
        } catch (err) {
          const hubErr = err instanceof HubError ? err : new HubError('invalid_token');
          if (reportBad) sendError(session, hubErr, frame.uid);
        }
      }
      deps.setIdentity(session, identity);
      // An acknowledgement means the subscription is live: the new user's topic is confirmed first.
      deps.replyWhenLive(session, 'users', [identity.root_id], deps.connectionFrame(session, frame.uid));
    },

    connection(session, frame) {
      deps.sendConnectionFrame(session, frame.uid);
    },

    subscribe(session, frame, at) {
      if (!namesChannels(frame)) return collections(session, frame.uid, (c, fail) => c.subscribe(session, frame, fail));
      // Refused whole: one channel the connection may not join, and it joins none of them.
      let asks: Array<{ channel: string; walker: string }> | null = null;
      for (const id of frame.channel_ids) {
        if (deps.isMember(session, id)) continue;
        const verdict = deps.channels.canSubscribe(session.identity, id);
        if (!verdict.ok) return sendError(session, verdict.error, frame.uid);
        if (verdict.walker !== undefined) (asks ??= []).push({ channel: id, walker: verdict.walker });
      }
      const join = () => {
        const { all, fresh } = deps.join(session, frame.channel_ids);
        if (deps.sharedHistory !== null && joinFromStreams(session, frame, all, fresh)) return;
        // Read in the same synchronous step as the join: every publication after it is delivered
        // live, every one up to it is in the replay, none twice (one node; see history/broker.ts).
        const recovery = deps.history === null ? null : subscribeHistory(deps.history, deps.channels, frame.channel_ids, frame.since);
        const reply = recovery === null ? encode.channels('subscribed', all, frame.uid) : encode.subscribedWithHistory(all, recovery.positions, recovery.recovered, frame.uid);
        const replay = recovery === null || recovery.replay.length === 0 ? null : recovery.replay;
        // An acknowledgement means the subscription is live: every named channel is confirmed first;
        // the missed publications follow the reply, then the channels entered are announced.
        deps.replyWhenLive(session, 'channels', frame.channel_ids, reply, replay === null && fresh.length === 0 ? undefined : () => {
          if (replay !== null) for (const publication of replay) send(session, publication);
          if (fresh.length > 0) deps.entered(session, fresh);
        });
      };
      if (asks === null) return join();
      // The namespaces' subscribe walkers must each agree; while any runs, later frames wait (hold.ts).
      const decide = (outcomes: readonly WalkerOutcome[]) => {
        for (let i = 0; i < outcomes.length; i++) {
          const refused = subscribeRefusal(asks[i] as { channel: string; walker: string }, outcomes[i] as WalkerOutcome);
          if (refused !== null) return sendError(session, refused, frame.uid);
        }
        join();
      };
      const caller = callerOf(session);
      // A subscribe walker that `--watch` removed refuses, as at connect (Hub.admitConnectChannel).
      const outcomes = asks.map(({ channel, walker }) => {
        const loaded = deps.runner.get(walker);
        // subscribeRefusal turns it into: forbidden, "Channel … was refused by <walker> (unknown_walker)".
        if (loaded === undefined) return { ok: false as const, error: new HubError('unknown_walker', `Unknown walker "${walker}"`) };
        return deps.runner.run(loaded, caller, { channel_id: channel }, at);
      });
      if (outcomes.every((o) => !(o instanceof Promise))) return decide(outcomes as WalkerOutcome[]);
      deps.wait(session, Promise.all(outcomes), decide);
    },

    unsubscribe(session, frame) {
      if (frame.channel_ids === undefined) return collections(session, frame.uid, (c) => c.unsubscribe(session, frame.uid));
      send(session, encode.channels('unsubscribed', deps.leave(session, frame.channel_ids), frame.uid));
    },

    auth(session, frame) {
      let identity: Identity;
      try {
        identity = deps.authenticator.verify(frame.access_token);
      } catch (err) {
        return sendError(session, err instanceof HubError ? err : new HubError('invalid_token'), frame.uid);
      }
      deps.setIdentity(session, identity);
      // As for change_user: the reply means the user's topic is live.
      deps.replyWhenLive(session, 'users', [identity.root_id], encode.authOk(frame.uid));
    },

    items: (session, frame) => collections(session, frame.uid, (c, fail) => c.items(session, frame, fail)),

    ping(session, frame) {
      send(session, encode.pong(frame.uid));
    },

    history(session, frame) {
      const denied = deps.channels.canReadHistory(session.identity, frame.channel_id, deps.isMember(session, frame.channel_id));
      const limits = deps.channels.historyOf(frame.channel_id);
      if (denied !== null || limits === null || (deps.history === null && deps.sharedHistory === null)) return sendError(session, denied ?? new HubError('forbidden', 'This channel keeps no history'), frame.uid);
      const options = { limit: frame.limit, since: frame.since };
      if (deps.history !== null) return send(session, historyReply(deps.history, frame.channel_id, limits.size, options, frame.uid));
      const read = historyReplyFrom((deps.sharedHistory as NonNullable<HandlerDeps['sharedHistory']>).store, frame.channel_id, limits, options, frame.uid);
      deps.wait(session, read.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))), (reply) => {
        if (typeof reply === 'string') send(session, reply);
        else sendError(session, new HubError('history_unavailable', reply.message), frame.uid);
      });
    },

    presence: (session, frame) => answerPresence(session, frame, (clients) => encode.presence(frame.channel_id, clients, frame.uid)),
    presence_stats: (session, frame) =>
      answerPresence(session, frame, (clients) => {
        const stats = statsOf(clients);
        return encode.presenceStats(frame.channel_id, stats.num_clients, stats.num_users, frame.uid);
      }),
  };
}
