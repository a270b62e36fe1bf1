/**
 * One handler per incoming frame type. The table's type is keyed by FrameType, so a frame type
 * without a handler does not compile.
 */
import type { Authenticator } from '../auth/authenticator.js';
import { isAuthenticated, publicIdentity, type Identity } from '../auth/identity.js';
import type { Broker } from '../broker/broker.js';
import { HubError } from '../errors.js';
import { whenReady } from '../maybe.js';
import { encode, type FrameOf, type FrameType } from '../protocol.js';
import type { Session } from './session.js';
import type { WalkerRunner } from '../walkers/runner.js';

export type PeerPolicy = 'authenticated' | 'public' | 'off';

/** What handlers may do to the hub: narrow on purpose. */
export interface HandlerDeps {
  readonly authenticator: Authenticator;
  readonly runner: WalkerRunner;
  readonly broker: Broker;
  readonly peerEvents: PeerPolicy;
  readonly maxInflightWalkers: number;
  send(session: Session, frame: string): void;
  sendConnectionFrame(session: Session, uid?: string): void;
  setIdentity(session: Session, identity: Identity): void;
  join(session: Session, channelIds: readonly string[]): string[];
  leave(session: Session, channelIds: readonly string[]): string[];
  /** Called for each error sent (an `error` frame or a failed `walker` reply), by code. */
  errorSent(code: string): void;
}

/** Handlers are synchronous, so frames of one socket are handled strictly in arrival order. */
export type Handler<K extends FrameType> = (session: Session, frame: FrameOf<K>) => void;
export type HandlerTable = { [K in FrameType]: Handler<K> };

export function createHandlers(deps: HandlerDeps): HandlerTable {
  const { send } = deps;
  const sendError = (session: Session, err: HubError, uid: string | undefined) => {
    deps.errorSent(err.code);
    send(session, encode.error(err.toBody(), uid));
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

  return {
    walker(session, frame) {
      const walker = deps.runner.get(frame.walker);
      if (!walker) return sendError(session, new HubError('unknown_walker', `Unknown walker "${frame.walker}"`), frame.uid);
      if (session.inflight >= deps.maxInflightWalkers) {
        const err = new HubError('too_many_requests', `At most ${deps.maxInflightWalkers} walkers may run at once per connection`);
        deps.errorSent(err.code);
        return send(session, encode.walkerError(walker.name, err.status, err.toBody(), frame.uid));
      }
      session.inflight++;
      session.gone ??= new AbortController();
      // A slow walker runs detached: later frames are not held up by it.
      const outcome = deps.runner.run(walker, {
        via: 'websocket',
        input: frame.context ?? {},
        identity: session.identity,
        clientId: session.clientId,
        channelId: session.channelId,
        node: frame.node ?? null,
        self: (out) => send(session, out),
        signal: session.gone.signal,
        log: session.log,
      });
      // `run` never throws or rejects, so the count is always released; it is released before
      // sending, so even a failing send cannot keep it held.
      void whenReady(outcome, (done) => {
        session.inflight--;
        // Failures are always reported; a success only when the caller asked for a response.
        if (!done.ok) {
          deps.errorSent(done.error.code);
          send(session, encode.walkerError(walker.name, done.error.status, done.error.toBody(), frame.uid));
        } else if (frame.response) send(session, encode.walkerOk(walker.name, done.reports, frame.uid));
      });
    },

    client: (session, frame) => peer(session, 'clients', frame.client_ids, frame),
    channel: (session, frame) => peer(session, 'channels', frame.channel_ids, frame),
    user: (session, frame) => peer(session, 'users', frame.root_ids, frame),

    change_user(session, frame) {
      const token = frame.token ?? null;
      let identity = publicIdentity;
      if (token !== null && token.trim() !== '') {
        try {
          identity = deps.authenticator.verify(token);
        } catch (err) {
          const hubErr = err instanceof HubError ? err : new HubError('invalid_token');
          sendError(session, hubErr, frame.uid);
        }
      }
      deps.setIdentity(session, identity);
      deps.sendConnectionFrame(session, frame.uid);
    },

    connection(session, frame) {
      deps.sendConnectionFrame(session, frame.uid);
    },

    subscribe(session, frame) {
      send(session, encode.channels('subscribed', deps.join(session, frame.channel_ids), frame.uid));
    },

    unsubscribe(session, frame) {
      send(session, encode.channels('unsubscribed', deps.leave(session, frame.channel_ids), frame.uid));
    },

    ping(session, frame) {
      send(session, encode.pong(frame.uid));
    },
  };
}
