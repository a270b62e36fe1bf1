/**
 * One handler per incoming frame type. The table's type is keyed by FrameType, so a frame type
 * without a handler does not compile.
 */
import type { Authenticator } from '../auth/authenticator.js';
import { isAuthenticated, publicIdentity, type Identity } from '../auth/identity.js';
import type { Broker, TargetKind } from '../broker/broker.js';
import { HubError } from '../errors.js';
import { encode, type FrameOf, type FrameType } from '../protocol.js';
import type { WireProfile } from '../profiles/profile.js';
import { ReplyQueue } from './reply-queue.js';
import type { Session } from './session.js';
import type { WalkerCall, WalkerOutcome, WalkerRunner } from '../walkers/runner.js';

export type PeerPolicy = 'authenticated' | 'public' | 'off';

/** What handlers may do to the hub: narrow on purpose. */
export interface HandlerDeps {
  readonly authenticator: Authenticator;
  readonly runner: WalkerRunner;
  readonly broker: Broker;
  readonly peerEvents: PeerPolicy;
  readonly profile: WireProfile;
  readonly maxInflightWalkers: number;
  send(session: Session, frame: string): void;
  sendConnectionFrame(session: Session, uid?: string): void;
  connectionFrame(session: Session, uid?: string): string;
  /**
   * Sends `reply` once this node's subscriptions to `ids` of `kind` are live (synchronously when
   * they are already); the socket's later frames are held until it has gone out (hold.ts).
   */
  replyWhenLive(session: Session, kind: TargetKind, ids: readonly string[], reply: string): void;
  setIdentity(session: Session, identity: Identity): void;
  join(session: Session, channelIds: readonly string[]): string[];
  leave(session: Session, channelIds: readonly string[]): string[];
  /** Called for each error sent (an `error` frame or a failed `walker` reply), by code. */
  errorSent(code: string): void;
}

/**
 * Handlers are synchronous, so frames of one socket are handled strictly in arrival order. `at`:
 * when the frame arrived (performance.now() ms), if the hub read the clock for it.
 */
export type Handler<K extends FrameType> = (session: Session, frame: FrameOf<K>, at?: number) => void;
export type HandlerTable = { [K in FrameType]: Handler<K> };

export function createHandlers(deps: HandlerDeps): HandlerTable {
  const { send, profile } = deps;
  const sendError = (session: Session, err: HubError, uid: string | undefined) => {
    deps.errorSent(err.code);
    send(session, profile.frameError(err, uid));
  };

  /**
   * A walker frame's reply (null: none). With a `uid` it leaves at once; without, in arrival order
   * behind every earlier uid-less walker frame (`ticket` was reserved when the frame arrived).
   */
  const reply = (session: Session, ticket: number, frame: string | null) => {
    if (ticket < 0) {
      if (frame !== null) send(session, frame);
    } else {
      (session.replies as ReplyQueue).settle(ticket, frame, (out) => send(session, out));
    }
  };
  /** -1: no place in line needed (a uid, or a synchronous reply with nothing ahead of it). */
  const place = (session: Session, uid: string | undefined, sync: boolean): number => {
    if (uid !== undefined) return -1;
    if (sync && (session.replies === null || session.replies.empty)) return -1;
    return (session.replies ??= new ReplyQueue()).reserve();
  };

  /** The socket's walker caller, made again only when its identity changed (so a running walker keeps the one it started with). */
  const callerOf = (session: Session): WalkerCall => {
    const cached = session.caller;
    if (cached !== null && cached.identity === session.identity) return cached;
    session.gone ??= new AbortController();
    const self = cached?.self ?? ((out: string) => send(session, out));
    return (session.caller = { via: 'websocket', identity: session.identity, clientId: session.clientId, channelId: session.channelId, node: null, self, signal: session.gone.signal, log: session.log });
  };

  const checkPeerPolicy = (session: Session): HubError | null => {
    if (deps.peerEvents === 'off') return new HubError('forbidden', 'Peer events are disabled on this hub');
    if (deps.peerEvents === 'authenticated' && !isAuthenticated(session.identity)) {
      return new HubError('forbidden', 'Peer events require an authenticated connection');
    }
    return null;
  };

  const peer = (session: Session, kind: 'clients' | 'channels' | 'users', ids: string[], frame: { data: unknown; uid?: string | undefined }) => {
    const denied = checkPeerPolicy(session);
    if (denied) return sendError(session, denied, frame.uid);
    deps.broker.publish({ kind, ids, frame: encode.payload(frame.data) });
    if (frame.uid !== undefined) send(session, encode.ack(frame.uid));
  };

  /** Releases the walker's in-flight count (before sending, so a failing send cannot keep it held) and replies. */
  const finish = (session: Session, name: string, frame: FrameOf<'walker'>, ticket: number, done: WalkerOutcome) => {
    session.inflight--;
    // Failures are always reported; a success only when the caller asked for a response.
    if (!done.ok) {
      deps.errorSent(done.error.code);
      reply(session, ticket, profile.walkerError(name, done.error, frame.uid));
    } else reply(session, ticket, frame.response ? profile.walkerOk(name, done.reports, frame.uid) : null);
  };

  return {
    walker(session, frame, at) {
      const walker = deps.runner.get(frame.walker);
      if (!walker) {
        const err = new HubError('unknown_walker', `Unknown walker "${frame.walker}"`);
        deps.errorSent(err.code);
        return reply(session, place(session, frame.uid, true), profile.unknownWalker(frame.walker, err, frame.uid));
      }
      if (session.inflight >= deps.maxInflightWalkers) {
        const err = new HubError('too_many_requests', `At most ${deps.maxInflightWalkers} walkers may run at once per connection`);
        deps.errorSent(err.code);
        return reply(session, place(session, frame.uid, true), profile.walkerError(walker.name, err, frame.uid));
      }
      session.inflight++;
      // A slow walker runs detached: later frames are not held up by it (only their replies may be).
      const caller = callerOf(session);
      const node = frame.node ?? null;
      const outcome = deps.runner.run(walker, node === null ? caller : { ...caller, node }, frame.context ?? {}, at);
      // `run` never throws or rejects, so the count is always released. A synchronous outcome is
      // answered without a closure (the hot path).
      if (outcome instanceof Promise) {
        const ticket = place(session, frame.uid, false);
        void outcome.then((done) => finish(session, walker.name, frame, ticket, done));
      } else {
        finish(session, walker.name, frame, place(session, frame.uid, true), outcome);
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

    subscribe(session, frame) {
      // An acknowledgement means the subscription is live: every named channel is confirmed first.
      deps.replyWhenLive(session, 'channels', frame.channel_ids, encode.channels('subscribed', deps.join(session, frame.channel_ids), frame.uid));
    },

    unsubscribe(session, frame) {
      send(session, encode.channels('unsubscribed', deps.leave(session, frame.channel_ids), frame.uid));
    },

    ping(session, frame) {
      send(session, encode.pong(frame.uid));
    },
  };
}
